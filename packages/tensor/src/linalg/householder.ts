import { gemm, gemmStrided } from './gemm.js';
// Internal Householder kernels on row-major blocks. Rows are processed four at a time so that
// each load of the reflector or of the work vector serves four rows (V8 pays per typed-array
// access; this roughly doubles throughput over one row at a time).

/**
 * Vectors of smaller norm get no reflector from {@link makeReflector} (2^-500 ≈ 3e-151): the
 * reflector's beta would overflow, and relative to a matrix scaled to entries of order 1 they
 * are far below rounding.
 */
export const NEGLIGIBLE_NORM = 2 ** -500;

/**
 * Householder reflector for the strided vector x_t = a[off + t * stride], t = 0..len-1.
 * Writes v (v_0 = x_0 - alpha, v_t = x_t) into `v[vOff + t]` and returns
 * `[alpha, beta]` with (I - beta v vᵀ) x = alpha e1; beta = 0 (v = 0) when x_1.. are all zero
 * or the whole vector is below {@link NEGLIGIBLE_NORM}.
 * alpha has the sign opposite to x_0 (no cancellation).
 */
export function makeReflector(
  a: Float64Array,
  off: number,
  stride: number,
  len: number,
  v: Float64Array,
  vOff: number,
): [number, number] {
  const x0 = a[off] as number;
  let mx = 0;
  for (let t = 1; t < len; t++) {
    const x = Math.abs(a[off + t * stride] as number);
    if (x > mx) mx = x;
  }
  if (mx === 0) {
    for (let t = 0; t < len; t++) v[vOff + t] = 0;
    return [x0, 0];
  }
  // Scaled norm (no overflow/underflow for any finite input).
  const sc = Math.max(mx, Math.abs(x0));
  let ss = 0;
  for (let t = 0; t < len; t++) {
    const x = (a[off + t * stride] as number) / sc;
    ss += x * x;
  }
  const sigma = sc * Math.sqrt(ss);
  if (sigma < NEGLIGIBLE_NORM) {
    // beta ~ 1/sigma² would overflow. Callers scale their matrices to a maximum entry near 1
    // (exact powers of two) first, so such a vector is negligible: leave it, reflect nothing.
    for (let t = 0; t < len; t++) v[vOff + t] = 0;
    return [x0, 0];
  }
  const alpha = x0 >= 0 ? -sigma : sigma;
  v[vOff] = x0 - alpha;
  for (let t = 1; t < len; t++) v[vOff + t] = a[off + t * stride] as number;
  // beta = 2 / (vᵀv) = 1 / (sigma (sigma + |x0|)), written to avoid overflow in sigma².
  const beta = 1 / sigma / (sigma + Math.abs(x0));
  return [alpha, beta];
}

/**
 * X[r0:r1, c0:c1] <- (I - beta v vᵀ) X[r0:r1, c0:c1] with v_i = v[vOff + i - r0].
 * `w` is scratch of length >= c1 (indexed by column).
 */
export function applyReflectorLeft(
  X: Float64Array,
  stride: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
  v: Float64Array,
  vOff: number,
  beta: number,
  w: Float64Array,
): void {
  if (beta === 0 || c1 <= c0 || r1 <= r0) return;
  w.fill(0, c0, c1);
  let i = r0;
  for (; i + 3 < r1; i += 4) {
    const q = vOff + i - r0;
    const v0 = v[q] as number, v1 = v[q + 1] as number, v2 = v[q + 2] as number, v3 = v[q + 3] as number;
    const x0 = i * stride;
    const x1 = x0 + stride;
    const x2 = x1 + stride;
    const x3 = x2 + stride;
    for (let j = c0; j < c1; j++) {
      w[j] =
        (w[j] as number) +
        v0 * (X[x0 + j] as number) +
        v1 * (X[x1 + j] as number) +
        v2 * (X[x2 + j] as number) +
        v3 * (X[x3 + j] as number);
    }
  }
  for (; i < r1; i++) {
    const vi = v[vOff + i - r0] as number;
    if (vi === 0) continue;
    const x0 = i * stride;
    for (let j = c0; j < c1; j++) w[j] = (w[j] as number) + vi * (X[x0 + j] as number);
  }
  i = r0;
  for (; i + 3 < r1; i += 4) {
    const q = vOff + i - r0;
    const f0 = beta * (v[q] as number);
    const f1 = beta * (v[q + 1] as number);
    const f2 = beta * (v[q + 2] as number);
    const f3 = beta * (v[q + 3] as number);
    const x0 = i * stride;
    const x1 = x0 + stride;
    const x2 = x1 + stride;
    const x3 = x2 + stride;
    for (let j = c0; j < c1; j++) {
      const wj = w[j] as number;
      X[x0 + j] = (X[x0 + j] as number) - f0 * wj;
      X[x1 + j] = (X[x1 + j] as number) - f1 * wj;
      X[x2 + j] = (X[x2 + j] as number) - f2 * wj;
      X[x3 + j] = (X[x3 + j] as number) - f3 * wj;
    }
  }
  for (; i < r1; i++) {
    const f = beta * (v[vOff + i - r0] as number);
    if (f === 0) continue;
    const x0 = i * stride;
    for (let j = c0; j < c1; j++) X[x0 + j] = (X[x0 + j] as number) - f * (w[j] as number);
  }
}

/**
 * X[r0:r1, c0:c1] <- X[r0:r1, c0:c1] (I - beta v vᵀ) with v_j = v[vOff + j - c0].
 */
export function applyReflectorRight(
  X: Float64Array,
  stride: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
  v: Float64Array,
  vOff: number,
  beta: number,
): void {
  if (beta === 0 || c1 <= c0 || r1 <= r0) return;
  const d = vOff - c0; // v_j = v[d + j]
  let i = r0;
  for (; i + 3 < r1; i += 4) {
    const x0 = i * stride;
    const x1 = x0 + stride;
    const x2 = x1 + stride;
    const x3 = x2 + stride;
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (let j = c0; j < c1; j++) {
      const vj = v[d + j] as number;
      t0 += (X[x0 + j] as number) * vj;
      t1 += (X[x1 + j] as number) * vj;
      t2 += (X[x2 + j] as number) * vj;
      t3 += (X[x3 + j] as number) * vj;
    }
    t0 *= beta;
    t1 *= beta;
    t2 *= beta;
    t3 *= beta;
    for (let j = c0; j < c1; j++) {
      const vj = v[d + j] as number;
      X[x0 + j] = (X[x0 + j] as number) - t0 * vj;
      X[x1 + j] = (X[x1 + j] as number) - t1 * vj;
      X[x2 + j] = (X[x2 + j] as number) - t2 * vj;
      X[x3 + j] = (X[x3 + j] as number) - t3 * vj;
    }
  }
  for (; i < r1; i++) {
    const x0 = i * stride;
    let t = 0;
    for (let j = c0; j < c1; j++) t += (X[x0 + j] as number) * (v[d + j] as number);
    t *= beta;
    if (t === 0) continue;
    for (let j = c0; j < c1; j++) X[x0 + j] = (X[x0 + j] as number) - t * (v[d + j] as number);
  }
}

/** Reflectors per block in {@link accumulateReflectors}. */
const NB = 64;

/**
 * Backward accumulation X <- H_0 H_1 ... H_{K-1} X for reflectors H_j = I - beta_j v_j v_jᵀ acting
 * on rows off_j = j + shift .. rows-1, with v_j[t] = vs[voff(j) + t]. X (rows x cols, row-major)
 * must be the identity on its first columns as in the usual "form Q" use (X starts as I or
 * [I; 0]): then block [j0, j1) only touches X[off_j0:, off_j0:]. Blocks of NB reflectors are
 * applied as I - V T Vᵀ (compact WY, LAPACK dlarft) with matrix products (`gemm`), which run
 * several times faster than reflector-by-reflector updates.
 */
export function accumulateReflectors(
  X: Float64Array,
  rows: number,
  cols: number,
  K: number,
  shift: number,
  vs: Float64Array,
  voff: (j: number) => number,
  betas: Float64Array,
): void {
  applyReflectorsLeft(X, rows, cols, K, shift, vs, voff, betas, true);
}

/**
 * X <- H_0 H_1 ... H_{K-1} X for a general X (rows x cols, row-major): like
 * {@link accumulateReflectors} (same reflector layout, same blocking into compact-WY products)
 * but every block acts on all columns (LAPACK dormtr/dormqr, side L, no transpose). With
 * `identityPrefix` the caller promises the "form Q" structure and the columns left of each
 * block's first row are skipped.
 */
export function applyReflectorsLeft(
  X: Float64Array,
  rows: number,
  cols: number,
  K: number,
  shift: number,
  vs: Float64Array,
  voff: (j: number) => number,
  betas: Float64Array,
  identityPrefix = false,
  nb = NB,
): void {
  const w = new Float64Array(cols);
  for (let j1 = K; j1 > 0; j1 -= nb) {
    const j0 = Math.max(0, j1 - nb);
    const o = j0 + shift;
    const c0 = identityPrefix ? o : 0;
    const L = rows - o;
    const W = cols - c0;
    const b = j1 - j0;
    if (L <= 0 || W <= 0) continue;
    if (L * W * b < 32 * 32 * 32) {
      // Small block: plain reflector updates.
      for (let j = j1 - 1; j >= j0; j--) {
        const oj = j + shift;
        if (oj >= rows) continue;
        applyReflectorLeft(X, cols, oj, rows, identityPrefix ? oj : 0, cols, vs, voff(j), betas[j] as number, w);
      }
      continue;
    }
    // V (L x b): column jj holds v_{j0+jj} starting at row jj.
    const V = new Float64Array(L * b);
    for (let jj = 0; jj < b; jj++) {
      const base = voff(j0 + jj);
      for (let t = jj; t < L; t++) V[t * b + jj] = vs[base + t - jj] as number;
    }
    const T = blockT(V, L, b, betas, j0);
    applyBlockReflector(X, cols, o, c0, L, W, V, b, T, false);
  }
}

/**
 * The (negated) triangular factor of a block of b reflectors stored as the columns of V (L x b,
 * row-major; column jj starts at row jj): H_j0 ... H_{j0+b-1} = I - V T Vᵀ with T upper
 * triangular (LAPACK dlarft, forward, columnwise), computed from the Gram matrix G = Vᵀ V as
 * T[0:j, j] = -beta_j T[0:j, 0:j] G[0:j, j]. Returns -T.
 */
export function blockT(V: Float64Array, L: number, b: number, betas: Float64Array, j0: number): Float64Array {
  const G = new Float64Array(b * b);
  gemm(G, b, b, L, V, true, V, false, true);
  const T = new Float64Array(b * b);
  for (let jj = 0; jj < b; jj++) {
    const beta = betas[j0 + jj] as number;
    T[jj * b + jj] = -beta;
    if (beta === 0) continue;
    for (let i = 0; i < jj; i++) {
      let s = 0;
      for (let q = i; q < jj; q++) s += (T[i * b + q] as number) * (G[q * b + jj] as number);
      T[i * b + jj] = -beta * s;
    }
  }
  return T;
}

/**
 * X[r0:r0+L, c0:c0+W] <- (I - V T Vᵀ) X (or with Tᵀ when `transposeT`, i.e. the transposed block
 * reflector) as X + V (op(-T) (Vᵀ X)): three matrix products, X updated in place. `Tn` is -T
 * from {@link blockT}; X has row stride ldx.
 */
export function applyBlockReflector(
  X: Float64Array,
  ldx: number,
  r0: number,
  c0: number,
  L: number,
  W: number,
  V: Float64Array,
  b: number,
  Tn: Float64Array,
  transposeT: boolean,
): void {
  const off = r0 * ldx + c0;
  const W1 = new Float64Array(b * W);
  gemmStrided({
    m: b, n: W, k: L,
    A: V, aOff: 0, lda: b, transA: true,
    B: X, bOff: off, ldb: ldx, transB: false,
    C: W1, cOff: 0, ldc: W,
    accumulate: false, upperOnly: false,
  });
  const W2 = new Float64Array(b * W);
  gemm(W2, b, W, b, Tn, transposeT, W1, false);
  gemmStrided({
    m: L, n: W, k: b,
    A: V, aOff: 0, lda: b, transA: false,
    B: W2, bOff: 0, ldb: W, transB: false,
    C: X, cOff: off, ldc: ldx,
    accumulate: true, upperOnly: false,
  });
}
