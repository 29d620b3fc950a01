import { BasisError } from '../errors.js';
import { Matrix } from '../matrix.js';
import type { MatrixLike } from '../matrix.js';
import { gemm } from './gemm.js';
import { accumulateReflectors, applyReflectorLeft, applyReflectorRight, makeReflector } from './householder.js';
import { determinantData } from './lu.js';
import { householderQR } from './qr.js';
import { EPS, checkOption, checkedSquare } from './validate.js';

/** Options of {@link orthogonalPower}. */
export interface OrthogonalPowerOptions {
  /** Accepted `max|QᵀQ - I|` before INVALID_ARGUMENT (default 1e-8). */
  orthogonalityTol?: number;
}

/**
 * Fractional power `Q^alpha = expm(alpha logm(Q))` of a rotation `Q ∈ SO(n)` (seeds-spec P7): the
 * point at parameter alpha on the minimal geodesic from I (alpha = 0) to Q (alpha = 1).
 * Computed from the real Schur form `Q = Z T Zᵀ` (Hessenberg reduction + Francis double-shift QR;
 * for an orthogonal matrix T is block diagonal with 2 x 2 rotations by θ_k ∈ (-π, π] and ±1's):
 * each block's angle is scaled to alpha θ_k. Eigenvalue -1 appears an even number of times in
 * SO(n); such directions are paired in Schur-vector order into planes rotated by angle π — the
 * geodesic is not unique there (any pairing is a valid logarithm), this choice is deterministic.
 * Likewise a 2 x 2 block at angle exactly ±π keeps the sign rounding gives it.
 * Throws INVALID_ARGUMENT for a non-orthogonal matrix (`max|QᵀQ - I| > orthogonalityTol`)
 * or for det Q = -1 ("not in SO(n)": no real logarithm), SHAPE_MISMATCH if not square.
 * Properties: `Q^0 = I`, `Q^1 = Q`, `Q^a Q^b = Q^(a+b)`, and `Q^alpha ∈ SO(n)`.
 *
 * @example
 * ```ts
 * const R = [[0, -1], [1, 0]]; // rotation by 90°
 * orthogonalPower(R, 0.5).toArray(); // rotation by 45°: [[0.7071, -0.7071], [0.7071, 0.7071]]
 * ```
 */
export function orthogonalPower(Q: MatrixLike, alpha: number, opts: OrthogonalPowerOptions = {}): Matrix {
  const q = checkedSquare(Q, 'Q');
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new BasisError('INVALID_ARGUMENT', `orthogonalPower: alpha must be a finite number, got ${String(alpha)}`);
  }
  checkOption(opts.orthogonalityTol, 'orthogonalityTol', (x) => x >= 0, 'a non-negative number');
  const n = q.rows;
  const tol = opts.orthogonalityTol ?? 1e-8;
  const dev = orthogonalityDefect(q.data, n);
  if (dev > tol) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `orthogonalPower: Q is not orthogonal (max|QᵀQ - I| = ${dev} > ${tol}); pass a rotation matrix or re-orthogonalise it (e.g. polar factor U Vᵀ of its SVD)`,
      { details: { defect: dev, tol } },
    );
  }
  const { T, Z } = realSchur(q.data.slice(), n);

  // Walk the diagonal blocks and build an orthonormal basis Y (columns) in which Q^alpha is
  // block diagonal: column c of the block matrix has `bd[c]` on the diagonal and `bo[c]` in row
  // `partner[c]` (-1 for none).
  const Y = new Float64Array(n * n);
  const bd = new Float64Array(n);
  const bo = new Float64Array(n);
  const partner = new Int32Array(n).fill(-1);
  const negatives: number[] = []; // columns of Y with eigenvalue -1 (paired up below)
  const setCol = (c: number, j0: number, w0: number, j1: number, w1: number): void => {
    for (let r = 0; r < n; r++) Y[r * n + c] = w0 * (Z[r * n + j0] as number) + w1 * (Z[r * n + j1] as number);
  };
  const plane = (c0: number, c1: number, theta: number): void => {
    // In the basis (y_c0, y_c1): [[cos, -sin], [sin, cos]] of angle alpha * theta.
    const ca = Math.cos(alpha * theta);
    const sa = Math.sin(alpha * theta);
    bd[c0] = ca;
    bd[c1] = ca;
    partner[c0] = c1;
    partner[c1] = c0;
    bo[c0] = sa; // entry (c1, c0)
    bo[c1] = -sa; // entry (c0, c1)
  };
  let i = 0;
  while (i < n) {
    const twoByTwo = i < n - 1 && T[(i + 1) * n + i] !== 0;
    if (!twoByTwo) {
      setCol(i, i, 1, i, 0);
      if ((T[i * n + i] as number) < 0) negatives.push(i);
      else bd[i] = 1;
      i += 1;
      continue;
    }
    const a = T[i * n + i] as number;
    const b = T[i * n + i + 1] as number;
    const c = T[(i + 1) * n + i] as number;
    const d = T[(i + 1) * n + i + 1] as number;
    if (a * d - b * c >= 0) {
      // A 2 x 2 special orthogonal block is a rotation [[cos, -sin], [sin, cos]].
      setCol(i, i, 1, i, 0);
      setCol(i + 1, i + 1, 1, i + 1, 0);
      plane(i, i + 1, Math.atan2(c - b, a + d));
    } else {
      // A reflection block (eigenvalues +1 and -1): split it along its symmetric eigenvectors;
      // [[p, o], [o, -p]] has the +1 eigenvector (cos phi, sin phi) with tan(2 phi) = o / p.
      const phi = 0.5 * Math.atan2(0.5 * (b + c), 0.5 * (a - d));
      const cp = Math.cos(phi);
      const sp = Math.sin(phi);
      setCol(i, i, cp, i + 1, sp);
      setCol(i + 1, i, -sp, i + 1, cp);
      bd[i] = 1;
      negatives.push(i + 1);
    }
    i += 2;
  }
  if (negatives.length % 2 === 1) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      'orthogonalPower: Q is not in SO(n) (det Q = -1, a reflection has no real logarithm); flip the sign of one column to get a rotation',
    );
  }
  for (let t = 0; t < negatives.length; t += 2) plane(negatives[t] as number, negatives[t + 1] as number, Math.PI);
  // Q^alpha = Y B Yᵀ = (Y B) Yᵀ: rows of Y B dotted with rows of Y.
  const YB = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const yr = r * n;
    for (let c = 0; c < n; c++) {
      const pc = partner[c] as number;
      let v = (Y[yr + c] as number) * (bd[c] as number);
      if (pc >= 0) v += (Y[yr + pc] as number) * (bo[c] as number);
      YB[yr + c] = v;
    }
  }
  const out = new Matrix(n, n);
  gemm(out.data, n, n, n, YB, false, Y, true);
  return out;
}

/** max |QᵀQ - I| for a row-major n x n array. */
function orthogonalityDefect(q: Float64Array, n: number): number {
  const G = new Float64Array(n * n);
  gemm(G, n, n, n, q, true, q, false, true);
  let dev = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) dev = Math.max(dev, Math.abs((G[i * n + j] as number) - (i === j ? 1 : 0)));
  }
  return dev;
}

/**
 * Real Schur form `A = Z T Zᵀ` of a row-major n x n array (overwritten by T): Householder
 * Hessenberg reduction, then Francis double-shift QR with exceptional shifts every 10 iterations.
 * Deflation uses an absolute threshold of 2^-52 * max(|h_{l-1,l-1}| + |h_{ll}|, 1): meant for
 * matrices of norm about 1 (internal: used for orthogonal matrices). 2 x 2 blocks are left
 * unsplit (the caller interprets them).
 */
export function realSchur(H: Float64Array, n: number): { T: Float64Array; Z: Float64Array } {
  const Z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Z[i * n + i] = 1;
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const [alpha, beta] = makeReflector(H, (k + 1) * n + k, n, n - k - 1, v, 0);
    if (beta === 0) continue;
    applyReflectorLeft(H, n, k + 1, n, k, n, v, 0, beta, w);
    applyReflectorRight(H, n, 0, n, k + 1, n, v, 0, beta);
    applyReflectorRight(Z, n, 0, n, k + 1, n, v, 0, beta);
    H[(k + 1) * n + k] = alpha;
    for (let i = k + 2; i < n; i++) H[i * n + k] = 0;
  }
  const h = (i: number, j: number): number => H[i * n + j] as number;
  const vv = new Float64Array(3);
  const xs = new Float64Array(3);
  // Applies P = I - beta v vᵀ (v of length len) to rows r0.. (columns c0..n-1), to columns r0..
  // (rows 0..rowEnd) and to Z's columns r0...
  const reflect = (r0: number, len: number, c0: number, rowEnd: number): void => {
    const [, beta] = makeReflector(xs, 0, 1, len, vv, 0);
    if (beta === 0) return;
    applyReflectorLeft(H, n, r0, r0 + len, c0, n, vv, 0, beta, w);
    applyReflectorRight(H, n, 0, rowEnd + 1, r0, r0 + len, vv, 0, beta);
    applyReflectorRight(Z, n, 0, n, r0, r0 + len, vv, 0, beta);
  };
  let m = n - 1;
  let iter = 0;
  let total = 0;
  const maxTotal = 100 * n + 100;
  while (m > 0) {
    let l = m;
    for (; l > 0; l--) {
      const tst = Math.abs(h(l - 1, l - 1)) + Math.abs(h(l, l));
      if (Math.abs(h(l, l - 1)) <= EPS * Math.max(tst, 1)) {
        H[l * n + l - 1] = 0;
        break;
      }
    }
    if (l === m) {
      m -= 1;
      iter = 0;
      continue;
    }
    if (l === m - 1) {
      m -= 2;
      iter = 0;
      continue;
    }
    if (++total > maxTotal) throw new BasisError('NOT_CONVERGED', `real Schur: Francis QR did not converge in ${maxTotal} iterations`);
    iter++;
    // Shifts: the eigenvalues of the trailing 2 x 2 (or of LAPACK's exceptional matrix every
    // 10 iterations). The first column of (H - s1)(H - s2) is formed from differences
    // h_ll - s (LAPACK dlahqr), which stay accurate when the window is close to a multiple of I
    // (clustered eigenvalues near ±1), where the expanded form h² - s h + t cancels.
    let a11: number;
    let a12: number;
    let a21: number;
    let a22: number;
    if (iter % 10 === 0) {
      const ss = Math.abs(h(m, m - 1)) + Math.abs(h(m - 1, m - 2));
      a11 = 0.75 * ss + h(m, m);
      a12 = -0.4375 * ss;
      a21 = ss;
      a22 = a11;
    } else {
      a11 = h(m - 1, m - 1);
      a12 = h(m - 1, m);
      a21 = h(m, m - 1);
      a22 = h(m, m);
    }
    const mid = 0.5 * (a11 + a22);
    const half = 0.5 * (a11 - a22);
    const disc = half * half + a12 * a21;
    let r1r: number;
    let r2r: number;
    let r1i = 0;
    let r2i = 0;
    if (disc >= 0) {
      // Two real shifts: use the one closer to h_mm twice.
      const sq = Math.sqrt(disc);
      const e1 = mid + sq;
      const e2 = mid - sq;
      r1r = Math.abs(e1 - a22) <= Math.abs(e2 - a22) ? e1 : e2;
      r2r = r1r;
    } else {
      r1r = mid;
      r2r = mid;
      r1i = Math.sqrt(-disc);
      r2i = -r1i;
    }
    const h21 = h(l + 1, l);
    let x = h21 * h(l, l + 1) + (h(l, l) - r1r) * (h(l, l) - r2r) - r1i * r2i;
    let y = h21 * (h(l, l) + h(l + 1, l + 1) - r1r - r2r);
    let z = h21 * h(l + 2, l + 1);
    for (let k = l - 1; k <= m - 3; k++) {
      xs[0] = x;
      xs[1] = y;
      xs[2] = z;
      reflect(k + 1, 3, Math.max(l, k), Math.min(k + 4, m));
      x = h(k + 2, k + 1);
      y = h(k + 3, k + 1);
      if (k < m - 3) z = h(k + 4, k + 1);
    }
    xs[0] = x;
    xs[1] = y;
    reflect(m - 1, 2, m - 2, m);
    // Clean the entries the bulge chase leaves at rounding level below the subdiagonal.
    for (let r = l + 2; r <= m; r++) {
      H[r * n + r - 2] = 0;
      if (r >= l + 3) H[r * n + r - 3] = 0;
    }
  }
  return { T: H, Z };
}

/** A source of standard normal draws (the `normal` method of `Rng` from the random area). */
export interface NormalSource {
  /** One standard normal draw. */
  normal(): number;
}

/** Options of {@link haarOrthogonal}. */
export interface HaarOptions {
  /** Restrict to det = +1 (Haar on SO(n)) or det = -1 (the other coset). Default: Haar on O(n). */
  det?: 1 | -1;
}

/**
 * A Haar-distributed random orthogonal n x n matrix (seeds-spec P6): QR of an n x n standard
 * Gaussian matrix (filled row by row from `rng.normal()`) with the sign fix R_ii > 0, which makes
 * Q exactly Haar on O(n). With `det: 1` (SO(n)) or `det: -1`, the first column is negated when
 * the determinant has the other sign. Deterministic for a given generator state.
 *
 * @example
 * ```ts
 * import { createRng, haarOrthogonal } from '@basis/tensor';
 * const Q = haarOrthogonal(4, createRng(7), { det: 1 });
 * ```
 */
export function haarOrthogonal(n: number, rng: NormalSource, opts: HaarOptions = {}): Matrix {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new BasisError('INVALID_ARGUMENT', `haarOrthogonal: n must be a non-negative integer, got ${String(n)}`);
  }
  if (n === 0) throw new BasisError('TOO_SMALL', 'haarOrthogonal: n must be at least 1');
  if (rng === null || typeof rng !== 'object' || typeof rng.normal !== 'function') {
    throw new BasisError('INVALID_ARGUMENT', 'haarOrthogonal: rng must provide normal() (e.g. createRng(seed))');
  }
  if (opts.det !== undefined && opts.det !== 1 && opts.det !== -1) {
    throw new BasisError('INVALID_ARGUMENT', `haarOrthogonal: option det must be 1 or -1, got ${String(opts.det)}`);
  }
  const g = new Float64Array(n * n);
  for (let k = 0; k < g.length; k++) {
    const x = rng.normal();
    if (!Number.isFinite(x)) throw new BasisError('NON_FINITE_INPUT', `haarOrthogonal: rng.normal() returned ${x}`);
    g[k] = x;
  }
  const f = householderQR(g, n, n, false);
  // Q = H_0 ... H_{n-1} diag(sign(R_ii)): with alpha_j = R_jj, flip column j when alpha_j < 0.
  const Q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  accumulateReflectors(Q, n, n, n, 0, f.vs, (j) => j * n, f.betas);
  for (let j = 0; j < n; j++) {
    if ((f.diag[j] as number) >= 0) continue;
    for (let r = 0; r < n; r++) Q[r * n + j] = -(Q[r * n + j] as number);
  }
  if (opts.det !== undefined) {
    const det = determinantData(Q.slice(), n);
    if (Math.sign(det) !== opts.det) for (let r = 0; r < n; r++) Q[r * n] = -(Q[r * n] as number);
  }
  return new Matrix(n, n, Q);
}
