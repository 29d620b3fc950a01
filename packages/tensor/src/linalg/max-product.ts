// Max-product ("tropical") Gram matrix K_ij = max_k X_ik X_jk, the max kernel of G_ReLU-CKA
// (S003 Def. 5.3). No BLAS computes it: a WebAssembly SIMD (f64x2) kernel assembled at load time
// does, with the scalar JavaScript loop as the fallback and as the reference it is tested against.
//
// Exactness: a maximum of products involves no rounding beyond each product, so every entry equals
// the scalar loop's bit for bit, whatever the order of k (up to the sign of a zero maximum, which
// no sum or product downstream can see).
import { BasisError } from '../errors.js';
import { Matrix, asMatrix, assertFinite, type MatrixLike } from '../matrix.js';
import { ADD, BLOCK, END, EQZ, I32, LOOP, LT_U, MUL, V128, br, brIf, get, i32c, name, section, set, simd, uleb, vec, type WasmApi, type WasmMemory, webAssemblyApi } from '../wasm-asm.js';

/** `mxrows(pA, pB, dp, nb, pOut)`: see {@link kernelBody}. */
type MxFn = (pA: number, pB: number, dp: number, nb: number, pOut: number) => void;

const vLoad = (offset: number): number[] => simd(0, 3, ...uleb(offset)); // v128.load align=8
const F64X2_MUL = simd(242);
const F64X2_PMAX = simd(247);
const F64X2_SPLAT = simd(20);
const lane = (i: number): number[] => simd(33, i);
const F64_MAX = [0xa5];
const f64Store = (offset: number): number[] => [0x39, 3, ...uleb(offset)];
const F64_NEG_INF = [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0xff]; // f64.const -Infinity

/**
 * `mxrows(pA, pB, dp, nb, pOut)`: for the row a of dp doubles at byte address pA and the nb rows
 * (nb a multiple of 4, dp even) of dp doubles each that follow one another from pB, writes
 * out[j] = max_k a_k b_jk as f64 at pOut + 8j. Four rows at a time, two lanes each.
 */
function kernelBody(): number[] {
  // params 0 pA, 1 pB, 2 dp, 3 nb, 4 pOut; i32 locals 5 g, 6 pa, 7 endA, 8 rowBytes, 9..12 pb0..pb3
  // v128 locals 13..16 acc0..acc3, 17 va
  const PB = [9, 10, 11, 12];
  const ACC = [13, 14, 15, 16];
  const VA = 17;
  const c: number[] = [];
  c.push(...get(2), ...i32c(8), ...MUL, ...set(8));
  c.push(...i32c(0), ...set(5));
  c.push(...BLOCK, ...LOOP); // groups of 4 rows
  c.push(...get(5), ...get(3), ...LT_U, ...EQZ, ...brIf(1));
  for (const a of ACC) c.push(...F64_NEG_INF, ...F64X2_SPLAT, ...set(a));
  c.push(...get(0), ...set(6), ...get(0), ...get(8), ...ADD, ...set(7));
  c.push(...get(1), ...set(PB[0] as number));
  for (let r = 1; r < 4; r++) c.push(...get(PB[r - 1] as number), ...get(8), ...ADD, ...set(PB[r] as number));
  c.push(...BLOCK, ...LOOP); // k, two doubles at a time
  c.push(...get(6), ...get(7), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(6), ...vLoad(0), ...set(VA));
  for (let r = 0; r < 4; r++) {
    const acc = ACC[r] as number;
    const pb = PB[r] as number;
    c.push(...get(acc), ...get(VA), ...get(pb), ...vLoad(0), ...F64X2_MUL, ...F64X2_PMAX, ...set(acc));
    c.push(...get(pb), ...i32c(16), ...ADD, ...set(pb));
  }
  c.push(...get(6), ...i32c(16), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  for (let r = 0; r < 4; r++) {
    const acc = ACC[r] as number;
    c.push(...get(4), ...get(acc), ...lane(0), ...get(acc), ...lane(1), ...F64_MAX, ...f64Store(8 * r));
  }
  c.push(...get(4), ...i32c(32), ...ADD, ...set(4));
  c.push(...get(1), ...get(8), ...i32c(4), ...MUL, ...ADD, ...set(1));
  c.push(...get(5), ...i32c(4), ...ADD, ...set(5));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(8), I32],
    [...uleb(5), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])]])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('mxrows'), 0x00, 0]])),
    ...section(10, vec([kernelBody()])),
  ]);
}

let compiled: { api: WasmApi; module: object } | null | undefined;
let disabled = false;

/** Test hook: `false` forces the JavaScript loop (to compare both paths). Not public API. */
export function setMaxProductWasmEnabled(on: boolean): void {
  disabled = !on;
}

function wasmModule(): { api: WasmApi; module: object } | null {
  if (disabled) return null;
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const api = webAssemblyApi();
    if (api !== undefined) compiled = { api, module: new api.Module(moduleBytes()) };
  } catch {
    compiled = null; // no WebAssembly SIMD here: the JavaScript loop is used
  }
  return compiled;
}

/** The scalar loop (upper triangle mirrored; `v > m` keeps the first of equal maxima). */
function maxProductJs(a: Float64Array, n: number, d: number, K: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let m = -Infinity;
      for (let k = 0; k < d; k++) {
        const v = (a[i * d + k] as number) * (a[j * d + k] as number);
        if (v > m) m = v;
      }
      K[i * n + j] = m;
      K[j * n + i] = m;
    }
  }
}

/** The WebAssembly kernel; false when it cannot run here (K untouched). */
function maxProductWasm(a: Float64Array, n: number, d: number, K: Float64Array): boolean {
  const w = wasmModule();
  if (w === null) return false;
  // Rows padded to an even length by repeating their last entry (a product already present, so
  // the maximum is unchanged), and 3 spare rows so that every call covers a multiple of 4 rows.
  const dp = d + (d & 1);
  const rowsBytes = (n + 3) * dp * 8;
  const outBytes = (n + 4) * 8;
  const bytes = rowsBytes + outBytes;
  if (bytes > 2 ** 31) return false;
  let memory: WasmMemory;
  let mx: MxFn;
  try {
    memory = new w.api.Memory({ initial: Math.ceil(bytes / 65536) });
    const fn = new w.api.Instance(w.module, { env: { mem: memory } }).exports['mxrows'];
    if (typeof fn !== 'function') return false;
    mx = fn as MxFn;
  } catch {
    return false; // out of memory for wasm: the JavaScript loop
  }
  const F = new Float64Array(memory.buffer);
  for (let i = 0; i < n; i++) {
    F.set(a.subarray(i * d, (i + 1) * d), i * dp);
    if (dp !== d) F[i * dp + d] = a[i * d + d - 1] as number;
  }
  const pOut = rowsBytes;
  const out = pOut / 8;
  for (let i = 0; i < n; i++) {
    const nb = n - i;
    mx(i * dp * 8, i * dp * 8, dp, (nb + 3) & ~3, pOut);
    for (let t = 0; t < nb; t++) {
      const m = F[out + t] as number;
      K[i * n + i + t] = m;
      K[(i + t) * n + i] = m;
    }
  }
  return true;
}

/**
 * The max-product ("tropical") Gram matrix of the rows of X: `K[i][j] = max_k X[i][k] X[j][k]`,
 * N x N and symmetric, diagonal included (`max_k X[i][k]²`). It is the max kernel of G_ReLU-CKA.
 * Exact: each entry is one of the products, found by a WebAssembly SIMD kernel when available
 * (a scalar loop otherwise), bit-identical to the plain loop. O(N² d) time, N² doubles.
 * Throws `NON_FINITE_INPUT` for NaN/Inf entries and `TOO_SMALL` for a matrix without rows or columns.
 *
 * @example
 * ```ts
 * import { maxProductGram } from '@basis/tensor';
 * maxProductGram([[1, -2], [3, 1]]).toArray(); // [[4, 3], [3, 9]]
 * ```
 */
export function maxProductGram(X: MatrixLike): Matrix {
  const x = asMatrix(X);
  if (x.rows === 0 || x.cols === 0) {
    throw new BasisError('TOO_SMALL', `maxProductGram: X is ${x.rows} x ${x.cols}; it needs at least one row and one column`);
  }
  assertFinite(x, 'X');
  const n = x.rows;
  const K = new Float64Array(n * n);
  if (!maxProductWasm(x.data, n, x.cols, K)) maxProductJs(x.data, n, x.cols, K);
  return new Matrix(n, n, K);
}
