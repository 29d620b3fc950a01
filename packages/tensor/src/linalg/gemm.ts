import { float64Buffer } from '../memory.js';
import { nativeGemm, nativeGemv } from '../engine/blas.js';
import { wasmGemm } from './wasm-kernels.js';
import type { GemmArgs } from './wasm-kernels.js';

// Internal dense kernels over row-major Float64Arrays. Everything here is deterministic: the
// summation order depends only on the shapes, never on timing or data.

/** Blocking of the shared (inner) dimension: 256 doubles of 8 rows = 16 KiB, fits L1. */
const KB = 256;
/** Blocking of the output columns (rows of Bᵀ) so that a Bᵀ panel stays in L2. */
const JB = 256;

/** Row-major transpose of an r x c array into a new c x r array (32 x 32 tiles). */
export function transposeData(a: Float64Array, r: number, c: number): Float64Array {
  const t = float64Buffer(r * c);
  transposeScaledInto(a, r, c, 1, t);
  return t;
}

/**
 * `out[j * m + i] = a[i * n + j] * f_i` for the row-major m x n `a` (32 x 32 tiles), with `f_i`
 * the factor `inv` or, given an array, `inv[i]`: the transpose (column-major copy for LAPACK) and
 * an exact scaling (a power of two, or a sign per row) in one pass (`x * 1` is `x`).
 */
export function transposeScaledInto(a: Float64Array, m: number, n: number, inv: number | Float64Array, out: Float64Array): void {
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(i0 + B, m);
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(j0 + B, n);
      for (let i = i0; i < i1; i++) {
        const ri = i * n;
        const f = typeof inv === 'number' ? inv : (inv[i] as number);
        for (let j = j0; j < j1; j++) out[j * m + i] = (a[ri + j] as number) * f;
      }
    }
  }
}

/**
 * C (m x n) += A (m x k) · Btᵀ, with Bt given row-major as n x k ("NT" product: every output
 * entry is a dot product of two contiguous rows). Register-blocked 4 x 4 tiles, blocked over k
 * and n. When `upperOnly` is set (A === Bt, square output) only tiles touching the upper
 * triangle are computed; the caller mirrors.
 */
export function gemmNT(
  A: Float64Array,
  Bt: Float64Array,
  C: Float64Array,
  m: number,
  k: number,
  n: number,
  upperOnly = false,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = Math.min(k0 + KB, k);
    for (let j0 = 0; j0 < n; j0 += JB) {
      const j1 = Math.min(j0 + JB, n);
      const j14 = Math.min(j1, n4);
      // Full 4-row blocks.
      for (let i = 0; i < m4; i += 4) {
        if (upperOnly && j1 <= i) continue;
        const a0 = i * k;
        const a1 = a0 + k;
        const a2 = a1 + k;
        const a3 = a2 + k;
        let j = j0;
        if (upperOnly && j < i - (i % 4)) j = i - (i % 4);
        for (; j < j14; j += 4) {
          const b0 = j * k;
          const b1 = b0 + k;
          const b2 = b1 + k;
          const b3 = b2 + k;
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
          let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
          let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          for (let p = k0; p < k1; p++) {
            const x0 = A[a0 + p] as number;
            const x1 = A[a1 + p] as number;
            const x2 = A[a2 + p] as number;
            const x3 = A[a3 + p] as number;
            const y0 = Bt[b0 + p] as number;
            const y1 = Bt[b1 + p] as number;
            const y2 = Bt[b2 + p] as number;
            const y3 = Bt[b3 + p] as number;
            c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
            c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
            c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
            c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
          }
          let r = i * n + j;
          C[r] = (C[r] as number) + c00; C[r + 1] = (C[r + 1] as number) + c01; C[r + 2] = (C[r + 2] as number) + c02; C[r + 3] = (C[r + 3] as number) + c03;
          r += n;
          C[r] = (C[r] as number) + c10; C[r + 1] = (C[r + 1] as number) + c11; C[r + 2] = (C[r + 2] as number) + c12; C[r + 3] = (C[r + 3] as number) + c13;
          r += n;
          C[r] = (C[r] as number) + c20; C[r + 1] = (C[r + 1] as number) + c21; C[r + 2] = (C[r + 2] as number) + c22; C[r + 3] = (C[r + 3] as number) + c23;
          r += n;
          C[r] = (C[r] as number) + c30; C[r + 1] = (C[r + 1] as number) + c31; C[r + 2] = (C[r + 2] as number) + c32; C[r + 3] = (C[r + 3] as number) + c33;
        }
        // Leftover columns (n % 4) of this 4-row block.
        if (j1 > n4) {
          for (let jj = Math.max(n4, j0); jj < j1; jj++) {
            const b = jj * k;
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (let p = k0; p < k1; p++) {
              const y = Bt[b + p] as number;
              s0 += (A[a0 + p] as number) * y;
              s1 += (A[a1 + p] as number) * y;
              s2 += (A[a2 + p] as number) * y;
              s3 += (A[a3 + p] as number) * y;
            }
            const r = i * n + jj;
            C[r] = (C[r] as number) + s0;
            C[r + n] = (C[r + n] as number) + s1;
            C[r + 2 * n] = (C[r + 2 * n] as number) + s2;
            C[r + 3 * n] = (C[r + 3 * n] as number) + s3;
          }
        }
      }
      // Leftover rows (m % 4).
      for (let i = m4; i < m; i++) {
        const a0 = i * k;
        const jStart = upperOnly ? Math.max(j0, i) : j0;
        for (let jj = jStart; jj < j1; jj++) {
          const b = jj * k;
          let s = 0;
          for (let p = k0; p < k1; p++) s += (A[a0 + p] as number) * (Bt[b + p] as number);
          C[i * n + jj] = (C[i * n + jj] as number) + s;
        }
      }
    }
  }
}

/** Copies the upper triangle of a square n x n array onto its lower triangle. */
export function mirrorUpper(C: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) C[i * n + j] = C[j * n + i] as number;
}

/** Products below this many multiply-adds use the JavaScript kernel (no copy into wasm). */
const WASM_MIN_WORK = 32 * 32 * 32;

/**
 * C (m x n, overwritten) = op(A) · op(B): op(A) is A (m x k row-major) or, with `transA`, the
 * transpose of A stored k x m; op(B) is B (k x n) or, with `transB`, the transpose of B stored
 * n x k. `upperOnly` (square output, symmetric product) computes the upper triangle and mirrors
 * it, so the result is exactly symmetric. See {@link gemmStrided}.
 */
export function gemm(
  C: Float64Array,
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  transA: boolean,
  B: Float64Array,
  transB: boolean,
  upperOnly = false,
): void {
  gemmStrided({
    m,
    n,
    k,
    A,
    aOff: 0,
    lda: transA ? m : k,
    transA,
    B,
    bOff: 0,
    ldb: transB ? k : n,
    transB,
    C,
    cOff: 0,
    ldc: n,
    accumulate: false,
    upperOnly,
  });
  if (upperOnly && m > 0) mirrorUpper(C, m);
}

/**
 * General strided product `C (+)= op(A) op(B)` on sub-blocks of row-major arrays (see
 * {@link GemmArgs}). Uses the native BLAS when the engine has one (`cblas_dgemm`, or `cblas_dsyrk`
 * for symmetric products), else the WebAssembly SIMD kernel when available and the product is
 * large enough, else the JavaScript kernel; the last two sum in the same order, so their results
 * are bit-identical. With `upperOnly` the caller mirrors the upper triangle.
 */
export function gemmStrided(g: GemmArgs): void {
  const { m, n, k, C, cOff, ldc } = g;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!g.accumulate) for (let i = 0; i < m; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (nativeGemm(g)) return;
  if (m * n * k >= WASM_MIN_WORK && wasmGemm(g)) return;
  // JavaScript path: contiguous A (m x k), Bᵀ (n x k) and C (m x n) copies.
  const a = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) a[i * k + p] = g.A[g.transA ? g.aOff + p * g.lda + i : g.aOff + i * g.lda + p] as number;
  }
  const bt = new Float64Array(n * k);
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < k; p++) bt[j * k + p] = g.B[g.transB ? g.bOff + j * g.ldb + p : g.bOff + p * g.ldb + j] as number;
  }
  const c = new Float64Array(m * n);
  if (g.accumulate) for (let i = 0; i < m; i++) c.set(C.subarray(cOff + i * ldc, cOff + i * ldc + n), i * n);
  gemmNT(a, bt, c, m, k, n, g.upperOnly);
  for (let i = 0; i < m; i++) C.set(c.subarray(i * n, (i + 1) * n), cOff + i * ldc);
}

/** Matrix-vector products from this many multiply-adds on go to the native BLAS when it is loaded. */
const GEMV_NATIVE_MIN = 1 << 16;

/** A (m x k) · B (k x n) into a new m x n array. */
export function matmulData(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = float64Buffer(m * n);
  matmulInto(C, A, B, m, k, n);
  return C;
}

/** A (m x k) · B (k x n) written over the m x n array C (its previous contents are never read). */
export function matmulInto(C: Float64Array, A: Float64Array, B: Float64Array, m: number, k: number, n: number): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    C.fill(0, 0, m * n);
    return;
  }
  // a matrix-vector product: the JS loop unless it is large enough for the native BLAS's dgemv
  // (vectorised and threaded) to pay for the call
  if (n === 1) {
    if (m * k >= GEMV_NATIVE_MIN && nativeGemv({ rows: m, cols: k, A, aOff: 0, lda: k, trans: false, x: B, y: C })) return;
    for (let i = 0; i < m; i++) {
      let s = 0;
      const a = i * k;
      for (let p = 0; p < k; p++) s += (A[a + p] as number) * (B[p] as number);
      C[i] = s;
    }
    return;
  }
  gemm(C, m, n, k, A, false, B, false);
}
