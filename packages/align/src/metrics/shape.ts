import { BasisError, Matrix, crossprod, eigh, gram, matmul, rowPairDotsOf, svd } from '@basis/tensor';
import { cached, centred, centredScale, numericalRank, prescaled, singularParts, spanBasis, squaresOf } from '../prep.js';
import { crossprodOfFinite, matmulOfFinite, polarFactorOfFinite } from '@basis/tensor/internal';
import { chordToAngle, padColumns, padTo, residualNorm, sumSquares } from '../util.js';
import { assertNotConstant } from '../validate.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';

/** Condition-number bound of the one-product route of {@link partiallyWhitened} (as CCA's shortcut). */
const POLAR_COND = 1e4;

/**
 * `U_r V_rᵀ` of the centred X at the numerical rank r (the polar factor of Xc, `Xc (Xcᵀ Xc)^{+1/2}`),
 * N x dx, formed from the cached factorisation: `Q (W V_r)ᵀ`-style, one N x r x dx product.
 * Cached per rank (r depends on the padded width through the rank tolerance).
 */
function polarFactor(Xc: Matrix, r: number, name: string, metric: string): Matrix {
  return cached(Xc, `polar:${r}`, () => {
    const { V, Q, W } = singularParts(Xc, name, metric);
    const Vr = r === V.cols ? V : V.slice(0, V.rows, 0, r);
    if (W !== undefined) {
      // QR route: U_r = Q W[:, :r], so U_r V_rᵀ = Q (W[:, :r] V_rᵀ) (r < dx only when a wider
      // partner raises the rank tolerance)
      return matmul(Q, matmul(r === W.cols ? W : W.slice(0, W.rows, 0, r), Vr.transpose()));
    }
    const Ur = r === Q.cols ? Q : Q.slice(0, Q.rows, 0, r);
    return matmul(Ur, Vr.transpose());
  });
}

/**
 * Largest condition number of a centred layer whose singular values and right vectors are taken
 * from the eigendecomposition of its Gram matrix `Xcᵀ Xc` (rounding ~ 2^-52 cond², at most ~2e-12
 * relative: the QR route's bound at its own guard {@link POLAR_COND}).
 */
const GRAM_COND = 100;

/**
 * Singular values (descending) and right vectors of a tall centred layer from `eigh(Xcᵀ Xc)`, when
 * its condition number is at most {@link GRAM_COND}; else undefined. Memoised per layer: one
 * N x d x d product and a d x d eigenproblem, against a QR and two SVDs of R on the other routes.
 */
function gramSpectrum(Xc: Matrix): { s: Float64Array; V: Matrix } | undefined {
  if (Xc.rows <= Xc.cols) return undefined;
  return cached(Xc, 'gramSpectrum', () => {
    const { values, vectors } = eigh(gram(Xc));
    const lo = values[values.length - 1] as number;
    if (!(lo > 0 && (values[0] as number) <= GRAM_COND * GRAM_COND * lo)) return undefined;
    return { s: values.map(Math.sqrt), V: vectors };
  });
}

/**
 * `Xc (ca I + cb V S⁻¹ Vᵀ) / ||.||_F` for a full-rank tall layer with singular values s and right
 * vectors V: one N x d x d product (the QR's Q and the left vectors are never formed).
 */
function whitenedProduct(Xc: Matrix, s: Float64Array, V: Matrix, ca: number, cb: number): Matrix {
  const d = Xc.cols;
  const VS = V.clone();
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) VS.data[i * d + k] = ((VS.data[i * d + k] as number) * cb) / (s[k] as number);
  const M = matmul(VS, V.transpose());
  for (let i = 0; i < d; i++) M.data[i * d + i] = (M.data[i * d + i] as number) + ca;
  const Phi = matmul(Xc, M);
  const norm = Math.sqrt(sumSquares(Phi));
  for (let k = 0; k < Phi.data.length; k++) Phi.data[k] = (Phi.data[k] as number) / norm;
  return Phi;
}

/**
 * `phi(X) / ||phi(X)||_F` with `phi(X) = alpha Xc + (1 - alpha) U_r V_rᵀ` (Williams et al.'s partial
 * whitening, `Xc (alpha I + (1 - alpha)(Xcᵀ Xc)^{+1/2})`), r the numerical rank of the centred X
 * zero-padded to p columns. The centred copy may carry an exact power-of-two scale (extreme
 * magnitudes): alpha applies to the data at their own scale, so the scale is put back in the
 * coefficients, which are normalised by the largest singular value of phi before any product.
 */
function partiallyWhitened(X: Matrix, alpha: number, p: number, name: string, metric: string): Matrix {
  const Xc = centred(X);
  assertNotConstant(squaresOf(Xc), name, metric);
  const a = alpha * centredScale(X); // phi = a Xc' + b U_r V_rᵀ with Xc' the stored (scaled) copy
  const b = 1 - alpha;
  const g = gramSpectrum(Xc);
  if (g !== undefined && numericalRank(g.s, X.rows, p) === X.cols) {
    // very well-conditioned tall layer: s and V from the Gram matrix, phi = Xc (ca I + cb V S⁻¹ Vᵀ)
    const top = Math.max(a * (g.s[0] as number) + b, Number.MIN_VALUE);
    return whitenedProduct(Xc, g.s, g.V, a / top, b / top);
  }
  const { s } = singularParts(Xc, name, metric);
  const r = numericalRank(s, X.rows, p);
  const top = Math.max(a * (s[0] as number) + b, Number.MIN_VALUE); // largest singular value of phi
  const ca = a / top;
  const cb = b / top;
  const sb = spanBasis(Xc, name, metric);
  if (sb.R !== undefined && (sb.cond as number) <= POLAR_COND && r === X.cols) {
    // well-conditioned tall layer: phi = Xc (ca I + cb V S⁻¹ Vᵀ), one N x d x d product from the
    // SVD of R (the QR's Q is never formed); rounding ~ 2^-52 cond, at most ~1e-12 relative
    return whitenedProduct(Xc, s, singularParts(Xc, name, metric).V, ca, cb);
  }
  const out = new Matrix(X.rows, X.cols);
  const o = out.data;
  if (ca !== 0) {
    const x = Xc.data;
    for (let k = 0; k < o.length; k++) o[k] = ca * (x[k] as number);
  }
  if (cb !== 0) {
    const P = polarFactor(Xc, r, name, metric).data;
    for (let k = 0; k < o.length; k++) o[k] = (o[k] as number) + cb * (P[k] as number);
  }
  const norm = Math.sqrt(sumSquares(out));
  for (let k = 0; k < o.length; k++) o[k] = (o[k] as number) / norm;
  return out;
}

/**
 * Generalized shape metric with partial whitening (Williams et al. 2021), angular: the angle
 * `arccos ||Aᵀ B||_*` between the normalised partially whitened representations A and B, evaluated
 * as `2 asin(r / 2)` with `r = ||pad(A) Q* - pad(B)||_F` at the optimal orthogonal Q* (stable near
 * 0). alpha = 1 is `procrustes.angular`; alpha = 0 compares the whitened data (CCA).
 *
 * @example
 * ```ts
 * metric('shape.partial_whitening', X, Y, { alpha: 0.5 }).value; // radians in [0, pi/2]
 * ```
 */
export function partialWhiteningKernel(X: Matrix, Y: Matrix, o: ResolvedOptions = {}): number {
  const alpha = (o['alpha'] as number | undefined) ?? 0.5;
  const p = Math.max(X.cols, Y.cols);
  const A = partiallyWhitened(X, alpha, p, 'X', 'shape.partial_whitening');
  const B = partiallyWhitened(Y, alpha, p, 'Y', 'shape.partial_whitening');
  const { U, V } = svd(padTo(crossprod(A, B), p, p));
  const Q = matmul(U, V.transpose());
  // pad(A) Q = A Q[:dx, :]; the residual against pad(B)
  const AQ = matmul(A, A.cols === p ? Q : Q.slice(0, A.cols, 0, p));
  return chordToAngle(residualNorm(AQ, padColumns(B, p)));
}

/** X itself, or (extreme magnitudes only) a copy divided by a power of two near max|X|, cached. */
export function rawScaled(X: Matrix): Matrix {
  const r = prescaled(X);
  return r.scale === 1 ? X : cached(X, 'prescaledRaw', () => r.M);
}

/** Largest |entry| of row i of a (row-major, `cols` wide). */
function rowMaxAbs(a: Float64Array, i: number, cols: number): number {
  let m = 0;
  for (let j = i * cols; j < (i + 1) * cols; j++) m = Math.max(m, Math.abs(a[j] as number));
  return m;
}

/**
 * Aligned cosine similarity (Hamilton et al. 2016), uncentred: the orthogonal Procrustes map Q*
 * of pad(X) onto pad(Y) (`Q* = U Vᵀ` from `Xᵀ Y = U S Vᵀ`), then the mean over inputs of
 * `cos(x_i Q*, y_i)`. Inputs whose row is zero in X or in Y are left out (ReSi); when every input
 * is left out the value is undefined and RANK_DEFICIENT is raised.
 *
 * @example
 * ```ts
 * metric('cosine.aligned', X, X).value; // 1
 * ```
 */
export function cosineAlignedKernel(X: Matrix, Y: Matrix): number {
  // cosines do not depend on a power-of-two scale of either input: the inputs as they are when
  // their cross product is well inside the float64 range (the row cosines below guard their own
  // squares), otherwise copies prescaled by powers of two near max|X| and max|Y|
  // the inputs are validated (finite) and every other operand below is formed from them: products
  // without the finiteness screen, which would read each N x d operand once more
  let x = X;
  let y = Y;
  let C = crossprodOfFinite(X, Y);
  let top = 0;
  for (let k = 0; k < C.data.length; k++) top = Math.max(top, Math.abs(C.data[k] as number));
  if (!(top >= 2 ** -800 && top <= 2 ** 800)) {
    x = rawScaled(X);
    y = rawScaled(Y);
    C = crossprodOfFinite(x, y);
  }
  const p = Math.max(x.cols, y.cols);
  const Q = polarFactorOfFinite(padTo(C, p, p)); // U Vᵀ of the SVD
  const XQ = matmulOfFinite(x, x.cols === p ? Q : Q.slice(0, x.cols, 0, p)); // pad(X) Q*
  const a = XQ.data;
  const b = y.data;
  const xd = x.data;
  const dy = y.cols;
  // every row pair's dot and both squared norms in one read of both (a WebAssembly SIMD kernel;
  // y's narrower rows compare zero-padded, as pad(y) would)
  const { dots, squaresA, squaresB } = rowPairDotsOf(XQ, y);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < x.rows; i++) {
    const nx = squaresA[i] as number;
    const ny = squaresB[i] as number;
    if (nx > 2 ** -960 && nx < Infinity && ny > 2 ** -960 && ny < Infinity) {
      // both rows non-zero (pad(x_i) Q* is zero only for a zero x_i) and their squares in range
      count++;
      sum += Math.max(-1, Math.min(1, (dots[i] as number) / (Math.sqrt(nx) * Math.sqrt(ny))));
      continue;
    }
    const ra = i * p;
    const rb = i * dy;
    if (rowMaxAbs(xd, i, x.cols) === 0) continue;
    const my = rowMaxAbs(b, i, dy);
    if (my === 0) continue;
    const mx = rowMaxAbs(a, i, p);
    count++;
    if (mx === 0) continue; // cannot happen for a non-zero row (Q is orthogonal); counts as cosine 0
    // rows divided by their largest entries: no square under- or overflows
    let dot = 0;
    let sx = 0;
    let sy = 0;
    for (let k = 0; k < p; k++) {
      const u = (a[ra + k] as number) / mx;
      sx += u * u;
      if (k < dy) {
        const v = (b[rb + k] as number) / my;
        dot += u * v;
        sy += v * v;
      }
    }
    sum += Math.max(-1, Math.min(1, dot / Math.sqrt(sx * sy)));
  }
  if (count === 0) {
    throw new BasisError(
      'RANK_DEFICIENT',
      'cosine.aligned: every input has a zero row in X or in Y, so no cosine is defined; check that the activations were captured correctly',
    );
  }
  return sum / count;
}

export const shapePartialWhitening: MetricDefinition = {
  id: 'shape.partial_whitening',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Generalized shape metric with partial whitening (Williams et al. 2021), angular, radians; alpha = 1 is procrustes.angular, alpha = 0 whitened (CCA)',
  kind: 'distance',
  range: [0, Math.PI / 2],
  // at the default alpha = 0.5 the value depends on the data's overall scale (the scatter matrix is not normalised)
  invariances: ['rotation', 'permutation', 'translation'],
  invariancesAt: [
    { options: { alpha: 1 }, invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'] },
    { options: { alpha: 0 }, invariances: ['rotation', 'permutation', 'isotropic-scale', 'unit-positive-scale', 'translation', 'invertible-linear'] },
  ],
  widths: 'zero-padding',
  minRows: 3,
  symmetric: true,
  options: [
    {
      name: 'alpha',
      type: 'number',
      default: 0.5,
      min: 0,
      max: 1,
      description: 'partial whitening: 1 = no whitening (procrustes.angular), 0 = full whitening (CCA); between, the value depends on the data scale',
    },
  ],
  prepare: (X) => void singularParts(centred(X), 'X', 'shape.partial_whitening'),
  compute: partialWhiteningKernel,
};

export const cosineAligned: MetricDefinition = {
  id: 'cosine.aligned',
  family: 'alignment',
  costClass: 'N·d²',
  title: 'Aligned cosine similarity (Hamilton et al. 2016, uncentred): mean cosine of x_i Q* and y_i after the orthogonal Procrustes map',
  kind: 'similarity',
  range: [-1, 1],
  invariances: ['rotation', 'permutation', 'isotropic-scale'],
  widths: 'zero-padding',
  minRows: 3,
  symmetric: true,
  compute: cosineAlignedKernel,
};
