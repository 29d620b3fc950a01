// D7: the sparsifying reparameterisation of S001 Sec. 4 (exact gated form, erratum 11),
// interaction graphs and interaction sparsity.
import { BasisError, Matrix, lstsq, pinv, qrPivoted, rank } from '@basis/tensor';
import { forwardDense, type DenseLayer } from './dense.js';
import { firingPatterns } from './firing.js';
import { checkMatrix, checkOpt } from './util.js';

/** One layer of {@link sparsifyMlp}: the map from the previous layer's new coordinates. */
export interface SparseLayer {
  readonly name: string;
  /** Incoming weights `What` in the new coordinates (`d_out x d_in`). */
  readonly W: Matrix;
  readonly b: Float64Array | null;
  /** Block-diagonal change of basis of this layer's units (`fhat = C f`; identity for the output and for linear layers). */
  readonly C: Matrix;
  /** `C⁻¹` (block pseudo-inverse). */
  readonly Cinv: Matrix;
  /** Synchronised blocks used (unit indices). */
  readonly blocks: number[][];
  /** Input coordinates kept as a basis by step 1 (the others' columns are zero). */
  readonly basisInputs: number[];
  readonly act: DenseLayer['act'];
  readonly slope?: number;
  /** Zero counts: from step 1 (`d_out (d_in − r)`), from step 2 (off-diagonal zeros of the identity blocks), and in total. */
  readonly zeros: { readonly step1: number; readonly step2: number; readonly total: number; readonly neuronBasis: number };
}

/** Result of {@link sparsifyMlp}. */
export interface SparsifyResult {
  readonly layers: SparseLayer[];
  /** Interaction sparsity per layer: new basis against the neuron basis. */
  readonly sparsity: { readonly name: string; readonly sparse: number; readonly neuron: number }[];
}

/**
 * Interaction sparsity of a weight matrix: `#{|W_ij| ≤ tol · max|W|} / #entries` (D7 metric;
 * default tol 1e-6 for exact constructions, 1e-2 is the spec's value for trained nets).
 *
 * @example
 * ```ts
 * interactionSparsity(Matrix.from([[1, 0], [0, 2]])); // 0.5
 * ```
 */
export function interactionSparsity(W: Matrix, tol = 1e-6): number {
  checkOpt(tol, 'tol', (v) => v >= 0, 'a non-negative number');
  checkMatrix(W, 'W');
  let top = 0;
  for (const v of W.data) top = Math.max(top, Math.abs(v));
  let z = 0;
  for (const v of W.data) if (Math.abs(v) <= tol * top) z++;
  return z / W.data.length;
}

function countZeros(W: Matrix, thr: number): number {
  let z = 0;
  for (const v of W.data) if (Math.abs(v) <= thr) z++;
  return z;
}

/**
 * The sparsifying reparameterisation (D7) of a ReLU MLP on data `X`, input to output:
 * step 1 keeps a column-pivoted-QR basis of the (current) activations and rewires the next weight
 * matrix so the other columns are zero (eq. 24); step 2 changes the basis of each synchronised
 * block of the next ReLU layer by the inverse of its pivot sub-block (eqs. 25-27), so the incoming
 * weights get identity diagonal blocks. The new coordinates obey the exact gated relation
 * `fhat = r ∘ (What f + bhat)` (erratum 11); {@link forwardSparse} evaluates it and reproduces the
 * outputs on D.
 *
 * @example
 * ```ts
 * const res = sparsifyMlp(denseChain(g, params), X);
 * res.sparsity; // [{ name: 'layers.0', sparse: 0.4, neuron: 0 }, ...]
 * ```
 */
export function sparsifyMlp(layers: readonly DenseLayer[], X: Matrix, opts: { tol?: number } = {}): SparsifyResult {
  checkOpt(opts.tol, 'tol', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  const tol = opts.tol ?? 1e-9;
  const fw = forwardDense(layers, X);
  const L = layers.length;
  let Win = layers[0]!.W; // incoming weights in the current coordinates of the previous layer
  let Fcur = X; // current coordinates of the previous layer on D
  const out: SparseLayer[] = [];
  for (let k = 0; k < L; k++) {
    const Ly = layers[k]!;
    const din = Win.cols;
    const dout = Win.rows;
    // step 1: basis of the current coordinates
    const r = rank(Fcur, { rtol: tol });
    const { perm } = qrPivoted(Fcur);
    const basis = Array.from(perm.slice(0, r)).sort((a, b) => a - b);
    const others = Array.from({ length: din }, (_, j) => j).filter((j) => !basis.includes(j));
    let Wt = Win.clone();
    if (others.length > 0) {
      const FB = new Matrix(Fcur.rows, r);
      const FO = new Matrix(Fcur.rows, others.length);
      for (let t = 0; t < Fcur.rows; t++) {
        basis.forEach((j, a) => FB.set(t, a, Fcur.get(t, j)));
        others.forEach((j, a) => FO.set(t, a, Fcur.get(t, j)));
      }
      const coef = lstsq(FB, FO).x; // r x |others|: f_o = Σ_a coef[a, o] f_basis[a]
      Wt = new Matrix(dout, din);
      for (let i = 0; i < dout; i++) {
        basis.forEach((j, a) => {
          let v = Win.get(i, j);
          others.forEach((o, c) => (v += coef.get(a, c) * Win.get(i, o)));
          Wt.set(i, j, v);
        });
      }
    }
    const step1 = dout * others.length;
    const isHidden = k < L - 1 && (Ly.act === 'relu' || Ly.act === 'leaky_relu');
    let C = Matrix.identity(dout);
    let Cinv = Matrix.identity(dout);
    let blocks: number[][] = [];
    let step2 = 0;
    if (isHidden) {
      const rep = firingPatterns(fw.pre[k]!, { activation: Ly.act as 'relu' | 'leaky_relu', ...(Ly.slope === undefined ? {} : { slope: Ly.slope }) });
      blocks = rep.blocks.filter((b) => b.kind !== 'dead').map((b) => b.units);
      C = new Matrix(dout, dout);
      Cinv = new Matrix(dout, dout);
      for (const bl of rep.blocks) {
        if (bl.kind === 'dead') {
          for (const i of bl.units) {
            C.set(i, i, 1);
            Cinv.set(i, i, 1);
          }
          continue;
        }
        const sub = new Matrix(bl.units.length, basis.length);
        bl.units.forEach((i, a) => basis.forEach((j, c) => sub.set(a, c, Wt.get(i, j))));
        const s = Math.min(bl.units.length, basis.length);
        const piv = s === 0 ? [] : Array.from(qrPivoted(sub).perm.slice(0, s));
        const S = new Matrix(bl.units.length, bl.units.length);
        if (piv.length === bl.units.length && rank(pickCols(sub, piv), { rtol: tol }) === bl.units.length) {
          const P = pickCols(sub, piv);
          const inv = pinv(P);
          for (let a = 0; a < S.rows; a++) for (let c = 0; c < S.cols; c++) S.set(a, c, inv.get(a, c));
          step2 += bl.units.length * (bl.units.length - 1);
        } else for (let a = 0; a < S.rows; a++) S.set(a, a, 1);
        const Sinv = pinv(S);
        bl.units.forEach((i, a) =>
          bl.units.forEach((j, c) => {
            C.set(i, j, S.get(a, c));
            Cinv.set(i, j, Sinv.get(a, c));
          }),
        );
      }
    }
    const What = mul(C, Wt);
    const bhat = Ly.b === null ? null : mulVec(C, Ly.b);
    const thr = 1e-9 * Math.max(...What.data.map(Math.abs));
    out.push({
      name: Ly.name,
      W: What,
      b: bhat,
      C,
      Cinv,
      blocks,
      basisInputs: basis,
      act: Ly.act,
      ...(Ly.slope === undefined ? {} : { slope: Ly.slope }),
      zeros: { step1, step2, total: countZeros(What, thr), neuronBasis: countZeros(Ly.W, 1e-9 * Math.max(...Ly.W.data.map(Math.abs))) },
    });
    if (k + 1 < L) {
      Win = mul(layers[k + 1]!.W, Cinv);
      Fcur = mulT(fw.post[k + 1]!, C); // fhat = C f
    }
  }
  return { layers: out, sparsity: out.map((l, k) => ({ name: l.name, sparse: interactionSparsity(l.W), neuron: interactionSparsity(layers[k]!.W) })) };
}

function pickCols(A: Matrix, cols: number[]): Matrix {
  const o = new Matrix(A.rows, cols.length);
  for (let i = 0; i < A.rows; i++) cols.forEach((j, c) => o.set(i, c, A.get(i, j)));
  return o;
}

function mul(A: Matrix, B: Matrix): Matrix {
  const o = new Matrix(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let t = 0; t < A.cols; t++) {
      const a = A.data[i * A.cols + t] as number;
      if (a === 0) continue;
      for (let j = 0; j < B.cols; j++) o.data[i * B.cols + j] = (o.data[i * B.cols + j] as number) + a * (B.data[t * B.cols + j] as number);
    }
  }
  return o;
}

function mulVec(A: Matrix, v: Float64Array): Float64Array {
  const o = new Float64Array(A.rows);
  for (let i = 0; i < A.rows; i++) {
    let s = 0;
    for (let j = 0; j < A.cols; j++) s += (A.data[i * A.cols + j] as number) * (v[j] as number);
    o[i] = s;
  }
  return o;
}

/** `F Cᵀ` (rows of F mapped by C). */
function mulT(F: Matrix, C: Matrix): Matrix {
  return mul(F, C.transpose());
}

/**
 * Evaluates a sparsified MLP with the exact gated relation `fhat = r ∘ (What fhat_prev + bhat)`,
 * the gates taken from the original units' preactivations `C⁻¹ p̂` (constant within a block).
 * On D it reproduces the original outputs.
 *
 * @example
 * ```ts
 * const y = forwardSparse(sparsifyMlp(layers, X), X); // equals forwardDense(layers, X) output on D
 * ```
 */
export function forwardSparse(res: SparsifyResult, X: Matrix): Matrix {
  checkMatrix(X, 'X');
  let h = X;
  for (const Ly of res.layers) {
    if (h.cols !== Ly.W.cols) throw new BasisError('SHAPE_MISMATCH', `layer '${Ly.name}' takes ${Ly.W.cols} inputs, got ${h.cols}`);
    const P = mul(h, Ly.W.transpose());
    if (Ly.b !== null) for (let t = 0; t < P.rows; t++) for (let i = 0; i < P.cols; i++) P.data[t * P.cols + i] = (P.data[t * P.cols + i] as number) + (Ly.b[i] as number);
    if (Ly.act === 'relu' || Ly.act === 'leaky_relu') {
      const orig = mul(P, Ly.Cinv.transpose());
      for (let k = 0; k < P.data.length; k++) P.data[k] = (orig.data[k] as number) >= 0 ? (P.data[k] as number) : Ly.act === 'relu' ? 0 : (Ly.slope ?? 0.01) * (P.data[k] as number);
    } else if (Ly.act !== 'identity') throw new BasisError('CONFIG_INVALID', `forwardSparse supports relu, leaky_relu and identity layers, not '${Ly.act}'`, { details: { field: 'act' } });
    h = P;
  }
  return h;
}

/** An edge of an interaction graph. */
export interface InteractionEdge {
  /** Source layer index l and unit, target layer l+1 and unit. */
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly weight: number;
}

/**
 * Interaction graph of transformed weights `mats[l]` (`d_{l+1} x d_l`, rows = targets): nodes per
 * layer, edges where `|w| > tol · max|w|` of that matrix.
 *
 * @example
 * ```ts
 * interactionGraph([Matrix.from([[1, 0], [0, 2]])]).edges.length; // 2
 * ```
 */
export function interactionGraph(mats: readonly Matrix[], tol = 1e-6): { nodes: number[]; edges: InteractionEdge[] } {
  if (mats.length === 0) throw new BasisError('TOO_SMALL', 'interactionGraph needs at least one matrix');
  const nodes = [mats[0]!.cols, ...mats.map((m) => m.rows)];
  const edges: InteractionEdge[] = [];
  mats.forEach((m, l) => {
    checkMatrix(m, `mats[${l}]`);
    if (l > 0 && m.cols !== mats[l - 1]!.rows) throw new BasisError('SHAPE_MISMATCH', `mats[${l}] has ${m.cols} columns but mats[${l - 1}] has ${mats[l - 1]!.rows} rows`);
    const top = Math.max(...m.data.map(Math.abs));
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) {
      const w = m.get(i, j);
      if (Math.abs(w) > tol * top) edges.push({ from: [l, j], to: [l + 1, i], weight: w });
    }
  });
  return { nodes, edges };
}
