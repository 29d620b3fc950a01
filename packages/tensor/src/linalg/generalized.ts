import { lapackPotrf, lapackSygst, nativeFor } from '../engine/lapack.js';
import { BasisError } from '../errors.js';
import type { MatrixLike } from '../matrix.js';
import { eighKernel } from './eigh.js';
import { gemmStrided } from './gemm.js';
import type { SymmetricOptions } from './spd.js';
import { DEFAULT_SYMMETRY_TOL, checkOption, checkedSquare, symmetrised } from './validate.js';

/** Rows per diagonal block of the blocked triangular solves (the rest of each step is one product). */
const NB = 48;

/**
 * Overwrites the row-major n x r array `z` with `L⁻¹ z` (L: the row-major lower triangle of `l`,
 * n x n), blocked: each block of NB rows first subtracts the product of its left panel of L with
 * the rows already solved (one matrix product, WebAssembly or native), then solves its diagonal
 * block row by row.
 */
function solveLowerInPlace(l: Float64Array, n: number, z: Float64Array, r: number): void {
  const t = new Float64Array(NB * r);
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = Math.min(n, i0 + NB);
    const m = i1 - i0;
    if (i0 > 0) {
      gemmStrided({ m, n: r, k: i0, A: l, aOff: i0 * n, lda: n, transA: false, B: z, bOff: 0, ldb: r, transB: false, C: t, cOff: 0, ldc: r, accumulate: false, upperOnly: false });
      for (let k = 0; k < m * r; k++) z[i0 * r + k] = (z[i0 * r + k] as number) - (t[k] as number);
    }
    for (let i = i0; i < i1; i++) {
      const zi = i * r;
      for (let k = i0; k < i; k++) {
        const f = l[i * n + k] as number;
        if (f === 0) continue;
        const zk = k * r;
        for (let j = 0; j < r; j++) z[zi + j] = (z[zi + j] as number) - f * (z[zk + j] as number);
      }
      const d = 1 / (l[i * n + i] as number);
      for (let j = 0; j < r; j++) z[zi + j] = (z[zi + j] as number) * d;
    }
  }
}

/** Cholesky factor (row-major lower triangle, in place of the symmetric `b`) by basis' own kernel. */
function choleskyInPlace(b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = b[rj + j] as number;
    for (let k = 0; k < j; k++) s -= (b[rj + k] as number) ** 2;
    if (!(s > 0)) notPositiveDefinite(j, s);
    const d = Math.sqrt(s);
    b[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let v = b[ri + j] as number;
      for (let k = 0; k < j; k++) v -= (b[ri + k] as number) * (b[rj + k] as number);
      b[ri + j] = v / d;
    }
  }
}

function notPositiveDefinite(pivot: number, value: number): never {
  throw new BasisError(
    'RANK_DEFICIENT',
    `generalizedEigenvalues: B is not positive definite: pivot ${pivot} of its Cholesky factorisation is ${value} (must be > 0); regularise (B + eps I)`,
    { details: { pivot, value } },
  );
}

/**
 * Eigenvalues (ascending) of the symmetric-definite pencil `A v = λ B v`: A symmetric, B symmetric
 * positive definite, both n x n (as `scipy.linalg.eigh(A, B, eigvals_only=True)`). With `B = L Lᵀ`
 * (Cholesky) they are the eigenvalues of the symmetric `L⁻¹ A L⁻ᵀ`: LAPACK `dpotrf`, `dsygst` and
 * `dsyevd` on the native provider (from n = 32 on), otherwise basis' own Cholesky, blocked
 * triangular solves whose products run on the WebAssembly kernel, and `eigh`. Each eigenvalue
 * carries an absolute error of a few ulps of `||L⁻¹ A L⁻ᵀ||`. Throws RANK_DEFICIENT when B is not
 * positive definite to working precision, SHAPE_MISMATCH for different sizes, INVALID_ARGUMENT
 * beyond `symmetryTol` (relative asymmetry; both inputs are symmetrised), NON_FINITE_INPUT for
 * NaN/Inf.
 *
 * @example
 * ```ts
 * generalizedEigenvalues([[2, 0], [0, 3]], [[1, 0], [0, 2]]); // Float64Array [1.5, 2]
 * ```
 */
export function generalizedEigenvalues(A: MatrixLike, B: MatrixLike, opts: SymmetricOptions = {}): Float64Array {
  const sa = checkedSquare(A, 'A');
  const sb = checkedSquare(B, 'B');
  if (sa.rows !== sb.rows) throw new BasisError('SHAPE_MISMATCH', `generalizedEigenvalues needs A and B of one size, got ${sa.rows} x ${sa.cols} and ${sb.rows} x ${sb.cols}`);
  checkOption(opts.symmetryTol, 'symmetryTol', (x) => x >= 0, 'a non-negative number');
  const tol = opts.symmetryTol ?? DEFAULT_SYMMETRY_TOL;
  const n = sa.rows;
  const a = symmetrised(sa, 'A', tol);
  const b = symmetrised(sb, 'B', tol);
  const lib = nativeFor('cholesky', n);
  if (lib !== null) {
    const info = lapackPotrf(lib, b, n);
    if (info > 0) notPositiveDefinite(info - 1, b[(info - 1) * (n + 1)] as number);
    lapackSygst(lib, a, b, n);
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j] as number;
  } else {
    choleskyInPlace(b, n);
    // Z = L⁻¹ A, then C = L⁻¹ Zᵀ (= L⁻¹ A L⁻ᵀ), made exactly symmetric
    solveLowerInPlace(b, n, a, n);
    const zt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) zt[j * n + i] = a[i * n + j] as number;
    solveLowerInPlace(b, n, zt, n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = zt[i * n + i] as number;
      for (let j = 0; j < i; j++) {
        const v = 0.5 * ((zt[i * n + j] as number) + (zt[j * n + i] as number));
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
  }
  return eighKernel(a, n, false).values.reverse();
}
