// D9: the interaction basis (S001 Sec. 6 and App. A) in float64.
import { BasisError, Matrix, eigh, matmul, pinv } from '@basis/tensor';
import type { ModelGraph } from '@basis/zoo';
import { actDeriv, actValue, denseChain, denseGrams, forwardDense, type DenseForward, type DenseLayer, type ParamsLike } from './dense.js';
import { checkEnum, checkMatrix, checkOpt, checkShape, maxAbs, secondMoment } from './util.js';

/** Options of {@link interactionBasis}. */
export interface InteractionBasisOptions {
  /** Final scaling: `'sqrt'` = diag(D_s^{1/2}) (App. A, default), `'inv_sqrt'` = diag(D_s^{-1/2}) (Sec. 6). */
  scaling?: 'sqrt' | 'inv_sqrt';
  /** Centre the features and append the constant feature (default false: uncentred, eq. 38). */
  center?: boolean;
  /** Eigenvalues at or below `tol · λ_max` of G (and of M̃) are dropped (default 1e-10). */
  tol?: number;
}

/** One layer's interaction basis (from {@link interactionBasis}). */
export interface LayerBasis {
  /** `C = S V_s A` (`s x d`, or `s x (d+1)` when centred: it acts on `[f − μ; 1]`). */
  readonly C: Matrix;
  /** Pseudo-inverse of C (`d x s`, or `(d+1) x s`). */
  readonly Cpinv: Matrix;
  /** Kept eigenvalues of G (D_r, descending). */
  readonly gEigenvalues: Float64Array;
  /** Kept eigenvalues of M̃ (D_s, descending). */
  readonly mEigenvalues: Float64Array;
  /** Input width d, rank r of G and final size s. */
  readonly dims: { readonly d: number; readonly r: number; readonly s: number };
  /** `d − r` (activation degeneracy) and `r − s` (Jacobian degeneracy). */
  readonly reductions: { readonly activation: number; readonly jacobian: number };
  /** Column means when centred (else null). */
  readonly mean: Float64Array | null;
  readonly scaling: 'sqrt' | 'inv_sqrt';
}

function augment(F: Matrix, mean: Float64Array): Matrix {
  const n = F.rows;
  const d = F.cols;
  const out = new Matrix(n, d + 1);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) out.data[r * (d + 1) + j] = (F.data[r * d + j] as number) - (mean[j] as number);
    out.data[r * (d + 1) + d] = 1;
  }
  return out;
}

function colMeans(F: Matrix): Float64Array {
  const m = new Float64Array(F.cols);
  for (let r = 0; r < F.rows; r++) for (let j = 0; j < F.cols; j++) m[j] = (m[j] as number) + (F.data[r * F.cols + j] as number);
  for (let j = 0; j < F.cols; j++) m[j] = (m[j] as number) / F.rows;
  return m;
}

/** `[I, μ]ᵀ M [I, μ]`: the Jacobian Gram of the augmented features `[f − μ; 1]`. */
function augmentM(M: Matrix, mu: Float64Array): Matrix {
  const d = M.rows;
  const out = new Matrix(d + 1, d + 1);
  const Mmu = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (M.data[i * d + j] as number) * (mu[j] as number);
    Mmu[i] = s;
  }
  let q = 0;
  for (let i = 0; i < d; i++) q += (mu[i] as number) * (Mmu[i] as number);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) out.data[i * (d + 1) + j] = M.data[i * d + j] as number;
    out.data[i * (d + 1) + d] = Mmu[i] as number;
    out.data[d * (d + 1) + i] = Mmu[i] as number;
  }
  out.data[(d + 1) * (d + 1) - 1] = q;
  return out;
}

/**
 * The interaction basis of one layer (D9 steps 1-7): whiten by the activation Gram
 * `G = (1/n) Fᵀ F` (dropping its null directions), express the Jacobian Gram M in the whitened
 * coordinates, diagonalise it (dropping its null directions), and scale by `D_s^{±1/2}`.
 * `M = null` means the output layer (`J = I`), which gives the PCA basis without whitening under
 * `'sqrt'`. Coordinates are `fhat = C f` ({@link transformFeatures}).
 *
 * @example
 * ```ts
 * const b = interactionBasis(F, M);             // F: n x d activations, M: d x d Jacobian Gram
 * b.dims;                                       // { d, r, s }
 * const Fhat = transformFeatures(b, F);         // n x s coordinates
 * ```
 */
export function interactionBasis(F: Matrix, M: Matrix | null, opts: InteractionBasisOptions = {}): LayerBasis {
  checkEnum(opts.scaling, 'scaling', ['sqrt', 'inv_sqrt']);
  checkOpt(opts.tol, 'tol', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  if (opts.center !== undefined && typeof opts.center !== 'boolean') throw new BasisError('CONFIG_INVALID', `center must be a boolean, got ${JSON.stringify(opts.center)}`, { details: { field: 'center' } });
  checkMatrix(F, 'F', 2);
  const d = F.cols;
  let Mx = M === null ? Matrix.identity(d) : checkMatrix(M, 'M');
  checkShape(Mx.rows === d && Mx.cols === d, `M is ${Mx.rows}x${Mx.cols} but the layer has ${d} features`);
  const scaling = opts.scaling ?? 'sqrt';
  const tol = opts.tol ?? 1e-10;
  const center = opts.center === true;
  let Fx = F;
  let mean: Float64Array | null = null;
  if (center) {
    mean = colMeans(F);
    Fx = augment(F, mean);
    Mx = augmentM(Mx, mean);
  }
  const G = secondMoment(Fx);
  const eg = eigh(G);
  const gmax = Math.max(eg.values[0] as number, 0);
  if (!(gmax > 0)) throw new BasisError('RANK_DEFICIENT', 'the activations are all zero: the layer has no interaction basis');
  const keepG: number[] = [];
  for (let j = 0; j < eg.values.length; j++) if ((eg.values[j] as number) > tol * gmax) keepG.push(j);
  const r = keepG.length;
  const D = Fx.cols;
  // U_r (r x D): rows are eigenvectors; A = D_r^{-1/2} U_r; A⁺ = U_rᵀ D_r^{1/2}
  const A = new Matrix(r, D);
  const Ap = new Matrix(D, r);
  const Dr = new Float64Array(r);
  keepG.forEach((j, a) => {
    const lam = eg.values[j] as number;
    Dr[a] = lam;
    const s = Math.sqrt(lam);
    for (let i = 0; i < D; i++) {
      const u = eg.vectors.data[i * D + j] as number;
      A.data[a * D + i] = u / s;
      Ap.data[i * r + a] = u * s;
    }
  });
  const Mt = matmul(matmul(Ap.transpose(), Mx), Ap); // r x r
  const em = eigh(Mt);
  const mmax = Math.max(em.values[0] as number, 0);
  if (!(mmax > 0)) throw new BasisError('RANK_DEFICIENT', 'the Jacobian Gram vanishes on the data span: the output ignores this layer');
  const keepM: number[] = [];
  for (let j = 0; j < em.values.length; j++) if ((em.values[j] as number) > tol * mmax) keepM.push(j);
  const s = keepM.length;
  const C = new Matrix(s, D);
  const Ds = new Float64Array(s);
  keepM.forEach((j, a) => {
    const mu = em.values[j] as number;
    Ds[a] = mu;
    const sc = scaling === 'sqrt' ? Math.sqrt(mu) : 1 / Math.sqrt(mu);
    for (let i = 0; i < D; i++) {
      let v = 0;
      for (let b = 0; b < r; b++) v += (em.vectors.data[b * r + j] as number) * (A.data[b * D + i] as number);
      C.data[a * D + i] = sc * v;
    }
  });
  return {
    C,
    Cpinv: pinv(C),
    gEigenvalues: Dr,
    mEigenvalues: Ds,
    dims: { d: D, r, s },
    reductions: { activation: D - r, jacobian: r - s },
    mean,
    scaling,
  };
}

/**
 * Interaction-basis coordinates `fhat(x) = C f(x)` of features `F` (rows = inputs), centring
 * and appending the constant feature when the basis was built with `center: true`.
 *
 * @example
 * ```ts
 * const Fhat = transformFeatures(interactionBasis(F, M), F); // n x s
 * ```
 */
export function transformFeatures(basis: LayerBasis, F: Matrix): Matrix {
  checkMatrix(F, 'F');
  const X = basis.mean === null ? F : augment(F, basis.mean);
  checkShape(X.cols === basis.C.cols, `F has ${F.cols} features but the basis was built for ${basis.mean === null ? basis.C.cols : basis.C.cols - 1}`);
  const out = new Matrix(X.rows, basis.C.rows);
  const D = X.cols;
  for (let r = 0; r < X.rows; r++) {
    for (let a = 0; a < basis.C.rows; a++) {
      let v = 0;
      for (let i = 0; i < D; i++) v += (basis.C.data[a * D + i] as number) * (X.data[r * D + i] as number);
      out.data[r * basis.C.rows + a] = v;
    }
  }
  return out;
}

/** Affine map `f' = W f + b` written on augmented coordinates when centring. */
function transitionMatrix(W: Matrix, b: Float64Array | null, inMean: Float64Array | null, outMean: Float64Array | null): Matrix {
  if (inMean === null && outMean === null) return W;
  const dout = W.rows;
  const din = W.cols;
  const ai = inMean === null ? 0 : 1;
  const ao = outMean === null ? 0 : 1;
  const T = new Matrix(dout + ao, din + ai);
  for (let i = 0; i < dout; i++) {
    let c = b === null ? 0 : (b[i] as number);
    for (let j = 0; j < din; j++) {
      T.data[i * (din + ai) + j] = W.data[i * din + j] as number;
      if (inMean !== null) c += (W.data[i * din + j] as number) * (inMean[j] as number);
    }
    if (outMean !== null) c -= outMean[i] as number;
    if (ai === 1) T.data[i * (din + ai) + din] = c;
  }
  if (ao === 1 && ai === 1) T.data[dout * (din + 1) + din] = 1;
  return T;
}

/** One layer of {@link interactionBasisMlp}. */
export interface NetworkBasisLayer {
  /** `'input'`, the activation node name, or the output node name. */
  readonly name: string;
  readonly basis: LayerBasis;
}

/** Result of {@link interactionBasisMlp}. */
export interface NetworkBasis {
  readonly layers: NetworkBasisLayer[];
  /**
   * `edges[l]` (`s_{l+1} x s_l`): the transition between consecutive bases averaged over the
   * data, `(1/n) Σ_x C^{l+1} diag(σ'(p^{l+1}(x))) W^l (C^l)⁺`. For linear transitions this is
   * exactly `What^l = C^{l+1} W^l (C^l)⁺` (D9 step 9).
   */
  readonly edges: Matrix[];
  /** `incoming[l] = W^l (C^l)⁺`: the preactivations of layer l+1 as a function of the basis coordinates. */
  readonly incoming: Matrix[];
  /** Per-layer width, rank of G, final size and reductions, for reports. */
  readonly summary: { name: string; d: number; r: number; s: number; activationReduction: number; jacobianReduction: number }[];
}

/**
 * The non-local interaction basis (S001 Sec. 6) of every feature layer of an MLP (dense and
 * activation nodes; see {@link denseChain}) on inputs `X`, computed exactly in float64:
 * activations and Jacobians by the float64 engine, the output layer's basis as PCA without
 * whitening under both scalings (D9 step 8), so under `'inv_sqrt'` the last transition of a
 * deep linear network is diagonal with entries ±σ_i². Biases are handled through centring (`center: true`, which appends the constant
 * feature); without centring they are ignored in `edges` (fold them in, or use centring).
 *
 * @example
 * ```ts
 * const nb = interactionBasisMlp(g, params, X, { scaling: 'sqrt' });
 * nb.summary; // [{ name: 'input', d: 4, r: 4, s: 3, ... }, ...]
 * nb.edges[1]; // diagonal for linear networks
 * ```
 */
export function interactionBasisMlp(graph: ModelGraph, params: ParamsLike, X: Matrix, opts: InteractionBasisOptions = {}): NetworkBasis {
  const layers = denseChain(graph, params);
  const g = denseGrams(layers, X);
  const L = layers.length;
  const bases: LayerBasis[] = [];
  // the output layer always gets the PCA basis without whitening (D9 step 8), whatever the scaling
  for (let l = 0; l <= L; l++) bases.push(interactionBasis(g.forward.post[l]!, l === L ? null : g.M[l]!, l === L ? { ...opts, scaling: 'sqrt' } : opts));
  return assemble(layers, g.forward, bases);
}

/**
 * The local interaction basis (LIB; S001 App. A, Bushnaq et al. 2024, arXiv 2405.10928) of every
 * feature layer of an MLP on inputs `X`, in float64. Built from the output backwards: the output
 * layer gets the PCA basis without whitening; layer l uses, in place of the output Jacobian, the
 * Jacobian of the next layer's basis coordinates, `J^l(x) = ∂(C^{l+1} f^{l+1})/∂f^l
 * = C^{l+1} diag(σ'(p^{l+1}(x))) W^l`, so `M^l = W^lᵀ (C^{l+1}ᵀ C^{l+1} ∘ (1/n) Σ_x σ'σ'ᵀ) W^l`
 * (the point-gradient Jacobian basis of ApolloResearch/rib). Then steps 2-6 of D9 as in
 * {@link interactionBasis}. For deep linear networks every transition is diagonal with entries ±1
 * under `'sqrt'` (App. A; the default). Under `'inv_sqrt'` the M̃ eigenvalues invert from layer to
 * layer, so the descending order reverses and each linear transition is monomial (a signed, scaled
 * permutation) instead. Under `'sqrt'`, `C^{l+1}ᵀ C^{l+1}` equals `M^{l+1}` on the data span, so the
 * local and non-local bases coincide until two nonlinear layers follow.
 *
 * @example
 * ```ts
 * const lib = localInteractionBasisMlp(g, params, X);
 * lib.edges[0]; // diagonal with entries ±1 for a linear network under 'sqrt'
 * ```
 */
export function localInteractionBasisMlp(graph: ModelGraph, params: ParamsLike, X: Matrix, opts: InteractionBasisOptions = {}): NetworkBasis {
  const layers = denseChain(graph, params);
  const fw = forwardDense(layers, X);
  const L = layers.length;
  const bases: LayerBasis[] = new Array<LayerBasis>(L + 1);
  bases[L] = interactionBasis(fw.post[L]!, null, { ...opts, scaling: 'sqrt' });
  for (let l = L - 1; l >= 0; l--) {
    const Ly = layers[l]!;
    const dout = Ly.W.rows;
    const C = bases[l + 1]!.C; // s x dout (or s x (dout + 1) when centred: the constant column has no derivative)
    const s = C.rows;
    const B = new Matrix(dout, dout);
    for (let i = 0; i < dout; i++) {
      for (let j = i; j < dout; j++) {
        let v = 0;
        for (let a = 0; a < s; a++) v += (C.data[a * C.cols + i] as number) * (C.data[a * C.cols + j] as number);
        B.data[i * dout + j] = v;
        B.data[j * dout + i] = v;
      }
    }
    const Dbar = secondMoment(fw.deriv[l]!); // (1/n) Σ_x σ'(p) σ'(p)ᵀ
    for (let k = 0; k < B.data.length; k++) B.data[k] = (B.data[k] as number) * (Dbar.data[k] as number);
    const M = matmul(matmul(Ly.W.transpose(), B), Ly.W);
    bases[l] = interactionBasis(fw.post[l]!, M, opts);
  }
  return assemble(layers, fw, bases);
}

function assemble(layers: readonly DenseLayer[], fw: DenseForward, bases: readonly LayerBasis[]): NetworkBasis {
  const L = layers.length;
  const names = ['input', ...layers.map((l, i) => (i === L - 1 ? l.name : (l.activationNode ?? l.name)))];
  const edges: Matrix[] = [];
  const incoming: Matrix[] = [];
  for (let l = 0; l < L; l++) {
    const Bin = bases[l]!;
    const Bout = bases[l + 1]!;
    const Ly = layers[l]!;
    const T = transitionMatrix(Ly.W, Ly.b, Bin.mean, null); // dout x Din (preactivation part)
    const inc = matmul(T, Bin.Cpinv); // dout x s_l
    incoming.push(inc);
    const deriv = fw.deriv[l]!;
    const n = deriv.rows;
    const dout = Ly.W.rows;
    const avg = new Float64Array(dout);
    let constant = true;
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < dout; i++) {
        const v = deriv.data[r * dout + i] as number;
        avg[i] = (avg[i] as number) + v / n;
        if (v !== deriv.data[i]) constant = false;
      }
    }
    // C^{l+1} restricted to the non-constant part (centred bases act on [f − μ; 1]; the
    // constant coordinate's derivative is 0); (1/n) Σ_x C diag(σ'(x)) inc = C diag(mean σ') inc
    const Cout = Bout.C;
    const so = Cout.rows;
    const E = new Matrix(so, inc.cols);
    const dv = constant || Ly.act === 'identity' ? deriv.data.subarray(0, dout) : avg;
    for (let a = 0; a < so; a++) {
      for (let c = 0; c < inc.cols; c++) {
        let v = 0;
        for (let i = 0; i < dout; i++) v += (Cout.data[a * Cout.cols + i] as number) * (dv[i] as number) * (inc.data[i * inc.cols + c] as number);
        E.data[a * inc.cols + c] = v;
      }
    }
    if (Bin.mean !== null && Bout.mean !== null && (constant || Ly.act === 'identity')) {
      // exact affine transition on augmented coordinates, including the constant row
      const Tfull = transitionMatrix(Ly.W, Ly.b, Bin.mean, Bout.mean);
      edges.push(matmul(matmul(Cout, Tfull), Bin.Cpinv));
    } else edges.push(E);
  }
  return {
    layers: bases.map((basis, l) => ({ name: names[l]!, basis })),
    edges,
    incoming,
    summary: bases.map((b, l) => ({ name: names[l]!, d: b.dims.d, r: b.dims.r, s: b.dims.s, activationReduction: b.reductions.activation, jacobianReduction: b.reductions.jacobian })),
  };
}

/**
 * Largest off-diagonal entry relative to the largest entry (0 for a diagonal matrix): how far a
 * transformed transition is from diagonal.
 *
 * @example
 * ```ts
 * offDiagonalRatio(Matrix.from([[1, 0], [0, -1]])); // 0
 * ```
 */
export function offDiagonalRatio(A: Matrix): number {
  const top = maxAbs(A.data);
  if (top === 0) return 0;
  let off = 0;
  for (let i = 0; i < A.rows; i++) for (let j = 0; j < A.cols; j++) if (i !== j) off = Math.max(off, Math.abs(A.data[i * A.cols + j] as number));
  return off / top;
}

/** Quadrature of the integrated-gradient path α ∈ [0, 1] (ApolloResearch/rib's integration methods). */
export type IntegrationMethod = 'gradient' | 'trapezoidal' | 'gauss-legendre';

function quadrature(method: IntegrationMethod, intervals: number): { alpha: number[]; weight: number[] } {
  if (method === 'gradient') return { alpha: [1], weight: [1] };
  if (method === 'trapezoidal') {
    const alpha = Array.from({ length: intervals + 1 }, (_, k) => k / intervals);
    const weight = alpha.map((_, k) => (k === 0 || k === intervals ? 0.5 : 1) / intervals);
    return { alpha, weight };
  }
  // Gauss-Legendre with `intervals` nodes on [0, 1] (Newton iteration on P_m)
  const m = intervals;
  const alpha: number[] = [];
  const weight: number[] = [];
  for (let i = 1; i <= m; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (m + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pm = m === 1 ? x : p1;
      const pm1 = m === 1 ? 1 : p0;
      dp = (m * (x * pm - pm1)) / (x * x - 1);
      const dx = pm / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    alpha.push(0.5 * (1 - x));
    weight.push(1 / ((1 - x * x) * dp * dp));
  }
  return { alpha, weight };
}

/** Result of {@link integratedGradientEdges}. */
export interface IntegratedGradientEdges {
  /** `edges[l]` (`s_{l+1} x s_l`): `(1/n) Σ_x (ĥ_j(x) ∫₀¹ ∂ĝ_i/∂ĥ_j(α ĥ(x)) dα)²`. */
  readonly edges: Matrix[];
  /**
   * Per transition: the largest violation of completeness, `|Σ_j IG_ij(x) − (ĝ_i(ĥ(x)) − ĝ_i(0))|`,
   * relative to the largest `|ĝ_i(ĥ(x)) − ĝ_i(0)|` (0 up to rounding for exact quadrature; a check on
   * the number of intervals).
   */
  readonly completeness: number[];
  readonly method: IntegrationMethod;
  readonly intervals: number;
}

/**
 * Integrated-gradient edges between consecutive interaction bases (the `squared` edge formula of
 * ApolloResearch/rib, seeds anchors §3.10; D9 step 9 leaves nonlinear edges OPEN): with
 * `ĥ = C^l f^l` and the layer map `ĝ(ĥ) = C^{l+1} σ(W^l (C^l)⁺ ĥ + b^l)`, the attribution of input
 * coordinate j to output coordinate i on x is `IG_ij(x) = ĥ_j(x) ∫₀¹ ∂ĝ_i/∂ĥ_j(α ĥ(x)) dα` and the edge is
 * its mean square over the data. For a linear transition this is `What_ij² · mean_x ĥ_j(x)²`.
 * Integration: `'gradient'` (the point estimate α = 1, rib's default), `'trapezoidal'` with
 * `intervals` intervals, or `'gauss-legendre'` with `intervals` nodes (default 20). Cost
 * `O(n · points · d_{l+1} s_{l+1} s_l)`: for small layers. With centred bases the constant
 * coordinate is scaled along the path too (the bias is folded in, as rib does).
 *
 * @example
 * ```ts
 * const nb = interactionBasisMlp(g, params, X);
 * const { edges, completeness } = integratedGradientEdges(g, params, X, nb, { method: 'gauss-legendre' });
 * ```
 */
export function integratedGradientEdges(
  graph: ModelGraph,
  params: ParamsLike,
  X: Matrix,
  nb: NetworkBasis,
  opts: { method?: IntegrationMethod; intervals?: number } = {},
): IntegratedGradientEdges {
  checkEnum(opts.method, 'method', ['gradient', 'trapezoidal', 'gauss-legendre']);
  checkOpt(opts.intervals, 'intervals', (v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer in 1..1000');
  const method = opts.method ?? 'gradient';
  const intervals = opts.intervals ?? 20;
  const layers = denseChain(graph, params);
  if (nb.layers.length !== layers.length + 1) throw new BasisError('SHAPE_MISMATCH', `the basis has ${nb.layers.length} layers but the model has ${layers.length + 1} feature layers`);
  const fw = forwardDense(layers, X);
  const { alpha, weight } = quadrature(method, intervals);
  const edges: Matrix[] = [];
  const completeness: number[] = [];
  for (let l = 0; l < layers.length; l++) {
    const Ly = layers[l]!;
    const Bin = nb.layers[l]!.basis;
    const Bout = nb.layers[l + 1]!.basis;
    checkShape(Bin.C.cols === Ly.W.cols + (Bin.mean === null ? 0 : 1), `basis layer ${l} acts on ${Bin.C.cols} features but '${Ly.name}' takes ${Ly.W.cols}`);
    const H = transformFeatures(Bin, fw.post[l]!); // n x s_in
    const inc = matmul(transitionMatrix(Ly.W, Ly.b, Bin.mean, null), Bin.Cpinv); // dout x s_in
    const bias = Bin.mean === null ? Ly.b : null; // centred: the bias rides on the constant coordinate
    const dout = Ly.W.rows;
    const sIn = H.cols;
    const Cout = Bout.C;
    const sOut = Cout.rows;
    const slope = Ly.slope ?? 0.01;
    const act = (p: number): number => actValue(Ly.act, p, slope);
    const der = (p: number): number => actDeriv(Ly.act, p, slope);
    const g = (h: Float64Array): Float64Array => {
      // ĝ(h) = C^{l+1} aug(σ(inc h + b))
      const f = new Float64Array(dout);
      for (let i = 0; i < dout; i++) {
        let p = bias === null ? 0 : (bias[i] as number);
        for (let j = 0; j < sIn; j++) p += (inc.data[i * sIn + j] as number) * (h[j] as number);
        f[i] = act(p) - (Bout.mean === null ? 0 : (Bout.mean[i] as number));
      }
      const out = new Float64Array(sOut);
      for (let a = 0; a < sOut; a++) {
        let v = Bout.mean === null ? 0 : (Cout.data[a * Cout.cols + dout] as number);
        for (let i = 0; i < dout; i++) v += (Cout.data[a * Cout.cols + i] as number) * (f[i] as number);
        out[a] = v;
      }
      return out;
    };
    const E = new Matrix(sOut, sIn);
    const IG = new Float64Array(sOut * sIn);
    const CD = new Float64Array(sOut * dout);
    const h = new Float64Array(sIn);
    let worst = 0;
    let scale = 0;
    const g0 = g(new Float64Array(sIn));
    for (let r = 0; r < H.rows; r++) {
      for (let j = 0; j < sIn; j++) h[j] = H.data[r * sIn + j] as number;
      IG.fill(0);
      for (let q = 0; q < alpha.length; q++) {
        const a = alpha[q] as number;
        const w = weight[q] as number;
        // C diag(σ'(pre(α h)))
        for (let i = 0; i < dout; i++) {
          let p = bias === null ? 0 : (bias[i] as number);
          for (let j = 0; j < sIn; j++) p += (inc.data[i * sIn + j] as number) * a * (h[j] as number);
          const d = der(p) * w;
          for (let o = 0; o < sOut; o++) CD[o * dout + i] = (Cout.data[o * Cout.cols + i] as number) * d;
        }
        for (let o = 0; o < sOut; o++) {
          for (let i = 0; i < dout; i++) {
            const c = CD[o * dout + i] as number;
            if (c === 0) continue;
            for (let j = 0; j < sIn; j++) IG[o * sIn + j] = (IG[o * sIn + j] as number) + c * (inc.data[i * sIn + j] as number);
          }
        }
      }
      const gx = g(h);
      for (let o = 0; o < sOut; o++) {
        let sum = 0;
        for (let j = 0; j < sIn; j++) {
          const v = (IG[o * sIn + j] as number) * (h[j] as number);
          sum += v;
          E.data[o * sIn + j] = (E.data[o * sIn + j] as number) + (v * v) / H.rows;
        }
        const target = (gx[o] as number) - (g0[o] as number);
        worst = Math.max(worst, Math.abs(sum - target));
        scale = Math.max(scale, Math.abs(target));
      }
    }
    edges.push(E);
    completeness.push(scale > 0 ? worst / scale : worst);
  }
  return { edges, completeness, method, intervals };
}
