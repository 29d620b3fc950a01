// The shortest-augmenting-path search of lsap.ts (`lsapKernel`) with its inner loop — one scan of
// a row's reduced costs — as a WebAssembly SIMD (f64x2) kernel, assembled at load time from the
// shared byte helpers (../wasm-asm.ts; no binary blob, no build step).
//
// Same algorithm, same tie-breaks, same IEEE-754 double arithmetic as the JavaScript kernel, so
// assignments and dual potentials are bit-identical (tested against it in lsap-wasm.test.ts):
// - the JavaScript scan visits the unscanned columns in the order of its `remaining` list; this
//   one sweeps every column in index order, and a scanned column cannot be updated or picked
//   (see below). Which column is picked does not depend on the visiting order: the rule (lowest
//   tentative distance, then an unmatched column, then the lowest index) is a total order on the
//   candidates. It is the lowest (distance, key) pair, with key j for an unmatched column and
//   j + 2^31 for a matched one; each f64x2 lane keeps its lowest pair, and the four lane
//   winners are compared here;
// - a reduced cost is `(shift + cost) - v`, the same two roundings as `shift + cost - v` in
//   JavaScript, with no fused multiply-add; the dual updates run in JavaScript in the same
//   expressions as lsapKernel, on the values the kernel stored;
// - a scanned column gets v = -Infinity and spc = +Infinity in the kernel's memory while its
//   true values wait here: its reduced cost is then +Infinity (finite or +Infinity costs only),
//   never below spc, and its spc never wins. Padding columns stay that way for good. (Signed
//   zeros cannot differ either: a reduced cost is -0 only if the shift is, which needs a -0
//   minimum first, and each search starts at +0.)
//
// Layout in WebAssembly memory: per pair of columns (2j, 2j+1) one 64-byte block
// [v, v | spc, spc | path, path | key, key] (f64 values; path holds the row index as a double),
// a 96-byte output area, then the cost matrix, its rows padded to a multiple of 4 columns.
import { ADD, BLOCK, END, EQZ, F64, I32, LOOP, LT_U, MUL, br, brIf, get, i32c, name, section, set, simd, uleb, vec, type Code, type KeptInstance, type WasmApi, type WasmMemory, keptInstance, withMemory } from '../wasm-asm.js';
import { matchColumnMinima, type LsapKernelResult } from './lsap-kernel.js';

/** scan(pRow, pCol, nQuads, shift, row, pOut) — see scanBody. */
type ScanFn = (pRow: number, pCol: number, nQuads: number, shift: number, row: number, pOut: number) => void;
/** colmin(pCost, pCol, nQuads, nr, rowBytes) — see colminBody. */
type ColminFn = (pCost: number, pCol: number, nQuads: number, nr: number, rowBytes: number) => void;
interface Kernels {
  scan: ScanFn;
  scanFirst: ScanFn;
  colmin: ColminFn;
}

// --- instructions beyond the shared assembler ------------------------------------------------
const vLoad = (offset: number): Code => simd(0, 4, ...uleb(offset)); // v128.load align=16
const vStore = (offset: number): Code => simd(11, 4, ...uleb(offset));
const F64X2_SPLAT = simd(20);
const F64X2_EQ = simd(71);
const F64X2_LT = simd(73);
const F64X2_ADD = simd(240);
const F64X2_SUB = simd(241);
const V_AND = simd(78);
const V_OR = simd(80);
const BITSELECT = simd(82);
const F64X2_PMIN = simd(246); // pmin(a, b) = b < a ? b : a
const f64x2Const = (a: number, b: number): Code => simd(12, ...new Uint8Array(Float64Array.of(a, b).buffer));

/** Bytes of one column-pair block and the offsets of its fields. */
const BLOCK_BYTES = 64;
const OFF_V = 0;
const OFF_SPC = 16;
const OFF_PATH = 32;
const OFF_KEY = 48;
/**
 * Tie-break key of column j: j for an unmatched column, j + MATCHED for a matched one, so the
 * lowest key at equal distance is the rule's pick (an unmatched column, then the lowest index).
 * Exact in doubles for any width below 2^31.
 */
const MATCHED = 2 ** 31;
/** Doubles per block. */
const BLOCK_DOUBLES = BLOCK_BYTES / 8;

/**
 * `scan(pRow, pCol, nQuads, shift, row, pOut)`: for every column j < 4 nQuads (cost row at byte
 * address pRow, column blocks at pCol):
 *   r = (shift + cost[j]) - v[j]; if (r < spc[j]) { spc[j] = r; path[j] = row }
 * (`scanFirst`, the first scan of a search, takes every spc[j] as +Infinity: no reset needed)
 * and per lane (lanes (4q, 4q+1) in the first set, (4q+2, 4q+3) in the second) the column with
 * the lowest (spc, key), compared lexicographically. Writes [bestD0, bestK0, bestD1, bestK1]
 * (four v128) at pOut. `pmin(a, b)` is `b < a ? b : a`, exactly the JavaScript comparison.
 */
function scanBody(first: boolean): Code {
  // params: 0 pRow, 1 pCol, 2 nQuads (i32), 3 shift, 4 row (f64); 5 pOut (i32)
  // i32 local: 6 q
  // v128 locals: 7 SH, 8 RW, 9 BD0, 10 BK0, 11 BD1, 12 BK1, 13 R, 14 D, 15 M, 16 K, 17 T
  const SH = 7, RW = 8;
  const BD = [9, 11];
  const BK = [10, 12];
  const R = 13, D = 14, M = 15, K = 16, T = 17;
  const c: Code = [];
  c.push(...get(3), ...F64X2_SPLAT, ...set(SH));
  c.push(...get(4), ...F64X2_SPLAT, ...set(RW));
  for (let s = 0; s < 2; s++) {
    c.push(...f64x2Const(Infinity, Infinity), ...set(BD[s] as number));
    c.push(...f64x2Const(Infinity, Infinity), ...set(BK[s] as number));
  }
  c.push(...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(6), ...get(2), ...LT_U, ...EQZ, ...brIf(1));
  for (let s = 0; s < 2; s++) {
    const o = s * BLOCK_BYTES;
    const bd = BD[s] as number;
    const bk = BK[s] as number;
    // R = (SH + cost) - v
    c.push(...get(SH), ...get(0), ...vLoad(16 * s), ...F64X2_ADD, ...get(1), ...vLoad(o + OFF_V), ...F64X2_SUB, ...set(R));
    if (first) c.push(...f64x2Const(Infinity, Infinity), ...set(D));
    else c.push(...get(1), ...vLoad(o + OFF_SPC), ...set(D));
    // M = R < D (never on a scanned column: its v is -Infinity, so R = +Infinity)
    c.push(...get(R), ...get(D), ...F64X2_LT, ...set(M));
    // D = M ? R : D; store spc and path
    c.push(...get(D), ...get(R), ...F64X2_PMIN, ...set(D));
    c.push(...get(1), ...get(D), ...vStore(o + OFF_SPC));
    c.push(...get(1), ...get(RW), ...get(1), ...vLoad(o + OFF_PATH), ...get(M), ...BITSELECT, ...vStore(o + OFF_PATH));
    // T = D < BD | (D == BD & K < BK); BD = min; BK = T ? K : BK. (At D == BD both hold the
    // same bits, so BD need not follow T; a scanned column's spc is +Infinity and never wins.)
    c.push(...get(1), ...vLoad(o + OFF_KEY), ...set(K));
    c.push(...get(D), ...get(bd), ...F64X2_LT);
    c.push(...get(D), ...get(bd), ...F64X2_EQ, ...get(K), ...get(bk), ...F64X2_LT, ...V_AND, ...V_OR, ...set(T));
    c.push(...get(bd), ...get(D), ...F64X2_PMIN, ...set(bd));
    c.push(...get(K), ...get(bk), ...get(T), ...BITSELECT, ...set(bk));
  }
  c.push(...get(0), ...i32c(32), ...ADD, ...set(0));
  c.push(...get(1), ...i32c(2 * BLOCK_BYTES), ...ADD, ...set(1));
  c.push(...get(6), ...i32c(1), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  const outs = [BD[0], BK[0], BD[1], BK[1]] as number[];
  outs.forEach((l, k) => c.push(...get(5), ...get(l), ...vStore(16 * k)));
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(11), 0x7b],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/**
 * `colmin(pCost, pCol, nQuads, nr, rowBytes)`: the column minima of the column-reduction start,
 * over rows i < nr (row i at pCost + i rowBytes): v[j] starts at +Infinity and
 * `if (cost[i, j] < v[j]) { v[j] = cost[i, j]; path[j] = i }` in increasing row order, as
 * columnReductionStart does (path then holds the lowest row attaining the minimum).
 */
function colminBody(): Code {
  // params: 0 pCost, 1 pCol, 2 nQuads, 3 nr, 4 rowBytes; i32 locals: 5 i, 6 q, 7 pr, 8 pc;
  // v128 locals: 9 RW, 10 ONE, 11 C, 12 V, 13 M
  const RW = 9, ONE = 10, C = 11, V = 12, M = 13;
  const c: Code = [];
  // v = +Infinity, path = 0
  c.push(...get(1), ...set(8), ...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(6), ...get(2), ...LT_U, ...EQZ, ...brIf(1));
  for (let s = 0; s < 2; s++) {
    const o = s * BLOCK_BYTES;
    c.push(...get(8), ...f64x2Const(Infinity, Infinity), ...vStore(o + OFF_V));
    c.push(...get(8), ...f64x2Const(0, 0), ...vStore(o + OFF_PATH));
  }
  c.push(...get(8), ...i32c(2 * BLOCK_BYTES), ...ADD, ...set(8));
  c.push(...get(6), ...i32c(1), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  c.push(...f64x2Const(0, 0), ...set(RW), ...f64x2Const(1, 1), ...set(ONE));
  c.push(...i32c(0), ...set(5), ...get(0), ...set(7));
  c.push(...BLOCK, ...LOOP); // rows
  c.push(...get(5), ...get(3), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(1), ...set(8), ...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP); // quads
  c.push(...get(6), ...get(2), ...LT_U, ...EQZ, ...brIf(1));
  for (let s = 0; s < 2; s++) {
    const o = s * BLOCK_BYTES;
    c.push(...get(7), ...vLoad(16 * s), ...set(C));
    c.push(...get(8), ...vLoad(o + OFF_V), ...set(V));
    c.push(...get(C), ...get(V), ...F64X2_LT, ...set(M));
    c.push(...get(8), ...get(V), ...get(C), ...F64X2_PMIN, ...vStore(o + OFF_V));
    c.push(...get(8), ...get(RW), ...get(8), ...vLoad(o + OFF_PATH), ...get(M), ...BITSELECT, ...vStore(o + OFF_PATH));
  }
  c.push(...get(7), ...i32c(32), ...ADD, ...set(7));
  c.push(...get(8), ...i32c(2 * BLOCK_BYTES), ...ADD, ...set(8));
  c.push(...get(6), ...i32c(1), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  c.push(...get(RW), ...get(ONE), ...F64X2_ADD, ...set(RW));
  c.push(...get(5), ...i32c(1), ...ADD, ...set(5));
  c.push(...get(0), ...get(5), ...get(4), ...MUL, ...ADD, ...set(7));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(4), I32],
    [...uleb(5), 0x7b],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const scanType = [0x60, ...vec([[I32], [I32], [I32], [F64], [F64], [I32]]), ...vec([])];
  const colminType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([scanType, colminType])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0], [0], [1]])),
    ...section(7, vec([[...name('scan'), 0x00, 0], [...name('scanFirst'), 0x00, 1], [...name('colmin'), 0x00, 2]])),
    ...section(10, vec([scanBody(false), scanBody(true), colminBody()])),
  ]);
}

let state: KeptInstance<Kernels> | null | undefined;
type Mode = 'auto' | 'always' | 'never';
let mode: Mode = 'auto';

/**
 * Smallest number of rows (of the internal nr x nc problem, nr <= nc) for which
 * {@link linearSumAssignment} uses the WebAssembly kernel by default; below it the JavaScript
 * kernel, which gives the same result, is as fast.
 */
export const LSAP_WASM_MIN_ROWS = 16;

/**
 * Test hook: `'always'` makes {@link linearSumAssignment} use the WebAssembly kernel at every size
 * (when it is available), `'never'` the JavaScript kernel, `'auto'` (the default) the WebAssembly
 * one from {@link LSAP_WASM_MIN_ROWS} rows. Not part of the public API.
 */
export function setLsapWasmMode(m: Mode): void {
  mode = m;
}

/** Whether an internal problem of `nr` rows should go to the WebAssembly kernel. */
export function lsapWasmWanted(nr: number): boolean {
  return mode === 'always' || (mode === 'auto' && nr >= LSAP_WASM_MIN_ROWS);
}

function instantiate(api: WasmApi, module: object, memory: WasmMemory): Kernels | null {
  const { exports } = new api.Instance(module, { env: { mem: memory } });
  const { scan, scanFirst, colmin } = exports;
  if (typeof scan !== 'function' || typeof scanFirst !== 'function' || typeof colmin !== 'function') return null;
  return { scan: scan as ScanFn, scanFirst: scanFirst as ScanFn, colmin: colmin as ColminFn };
}

function wasmState(): KeptInstance<Kernels> | null {
  // null: no WebAssembly SIMD here, the JavaScript kernel is used
  if (state === undefined) state = keptInstance(moduleBytes, instantiate);
  return state;
}

/** True when the WebAssembly LSAP kernel can run here. */
export function lsapWasmAvailable(): boolean {
  return wasmState() !== null;
}

/** The kernels on a memory of at least `bytes` bytes (null: the caller falls back to JavaScript). */
function kernelsWithMemory(bytes: number): { memory: WasmMemory; kernels: Kernels } | null {
  const st = wasmState();
  return st === null ? null : withMemory(st, bytes, instantiate);
}

/**
 * A cost matrix placed in WebAssembly memory for {@link lsapKernelWasm}: `nr x nc` row-major
 * with rows padded to `stride` doubles. Fill it with {@link LsapWasmInput.setRow} (or write
 * `F[off + i * stride + j]` directly) before solving. Entries past `nc` in a row are ignored.
 */
export interface LsapWasmInput {
  readonly nr: number;
  readonly nc: number;
  /** Row stride in doubles (nc rounded up to a multiple of 4). */
  readonly stride: number;
  /** Offset of cost[0, 0] in `F`, in doubles. */
  readonly off: number;
  /** A view of the whole memory, valid until the memory next grows (write the input right away). */
  readonly F: Float64Array;
  readonly memory: WasmMemory;
  readonly kernels: Kernels;
}

/** Layout sizes for an nr x nc problem: column blocks, the 96-byte output area, the cost rows. */
function layout(nr: number, nc: number): { stride: number; pOut: number; off: number; bytes: number } {
  const stride = Math.ceil(nc / 4) * 4;
  const blocksBytes = (stride / 2) * BLOCK_BYTES;
  const pOut = blocksBytes;
  const off = (pOut + 96) / 8;
  const bytes = off * 8 + nr * stride * 8;
  return { stride, pOut, off, bytes };
}

/**
 * Reserves WebAssembly memory for an `nr x nc` cost matrix (nr <= nc), or returns null when the
 * kernel is unavailable, disabled, or the problem does not fit in 2^31 bytes.
 */
export function lsapWasmInput(nr: number, nc: number): LsapWasmInput | null {
  const { stride, off, bytes } = layout(nr, nc);
  if (bytes > 2 ** 31) return null;
  const st = kernelsWithMemory(bytes);
  if (st === null) return null;
  return { nr, nc, stride, off, F: new Float64Array(st.memory.buffer), memory: st.memory, kernels: st.kernels };
}

/**
 * The solve of {@link lsapKernel} on a cost matrix already in WebAssembly memory; bit-identical
 * to `lsapKernel` on the same matrix (assignment and potentials). Returns null when infeasible.
 */
export function lsapKernelWasm(inp: LsapWasmInput): LsapKernelResult | null {
  const { nr, nc, stride, off } = inp;
  const { scan, scanFirst, colmin } = inp.kernels;
  const F = new Float64Array(inp.memory.buffer); // fresh views: the memory may have grown since
  const u = new Float64Array(nr);
  const col4row = new Int32Array(nr).fill(-1);
  const row4col = new Int32Array(nc).fill(-1);
  const v = new Float64Array(nc);
  if (nr === 0) return { col4row, row4col, u, v };
  const { pOut } = layout(nr, nc);
  // index in F of field `byteOff` of column j: block j >> 1, lane j & 1
  const at = (j: number, byteOff: number): number => (j >> 1) * BLOCK_DOUBLES + byteOff / 8 + (j & 1);

  if (nr === nc) {
    // the column-reduction start of lsapKernel: minima in the kernel, then the same matching
    colmin(off * 8, 0, stride / 4, nr, stride * 8);
    const argmin = new Int32Array(nc);
    for (let j = 0; j < nc; j++) {
      v[j] = F[at(j, OFF_V)] as number;
      argmin[j] = F[at(j, OFF_PATH)] as number;
    }
    if (!matchColumnMinima(v, argmin, nc, col4row, row4col)) return null;
  }
  // Column blocks. A scanned column (and every padding column) has v = -Infinity and
  // spc = +Infinity in the kernel's memory, so its reduced cost is +Infinity: it is never updated
  // and never picked. Its true v and spc are kept here while it is scanned.
  for (let j = 0; j < stride; j++) {
    F[at(j, OFF_V)] = j < nc ? (v[j] as number) : -Infinity;
    F[at(j, OFF_SPC)] = Infinity;
    F[at(j, OFF_PATH)] = 0;
    F[at(j, OFF_KEY)] = j < nc && row4col[j] === -1 ? j : j + MATCHED;
  }

  const scannedRows = new Int32Array(nr);
  const rowSpc = new Float64Array(nr); // spc of the column through which each scanned row was reached
  const scannedCols = new Int32Array(nc);
  const colV = new Float64Array(nc); // v of each scanned column
  const colSpc = new Float64Array(nc); // spc of each scanned column
  const nQuads = stride / 4;
  const o = pOut / 8;
  for (let curRow = 0; curRow < nr; curRow++) {
    if (col4row[curRow] !== -1) continue;
    let nScanned = 0;
    let nCols = 0;
    let minVal = 0;
    let i = curRow;
    let sink = -1;
    while (sink === -1) {
      const shift = minVal - (u[i] as number);
      (nScanned === 0 ? scanFirst : scan)((off + i * stride) * 8, 0, nQuads, shift, i, pOut);
      scannedRows[nScanned++] = i;
      // the best of the four lane winners by the same (distance, key) order
      let lowest = Infinity;
      let lowestK = Infinity;
      for (let t = 0; t < 2; t++) {
        for (let l = 0; l < 2; l++) {
          const d = F[o + 4 * t + l] as number;
          const key = F[o + 4 * t + 2 + l] as number;
          if (d < lowest || (d === lowest && key < lowestK)) {
            lowest = d;
            lowestK = key;
          }
        }
      }
      const lowestJ = lowest === Infinity ? -1 : lowestK >= MATCHED ? lowestK - MATCHED : lowestK;
      if (lowestJ < 0) return null; // every remaining pair is forbidden: infeasible
      minVal = lowest;
      const j = lowestJ;
      const pv = at(j, OFF_V);
      colV[nCols] = F[pv] as number;
      colSpc[nCols] = lowest; // = spc[j]: the winner's value is a copy of it
      scannedCols[nCols++] = j;
      F[pv] = -Infinity;
      F[at(j, OFF_SPC)] = Infinity;
      const owner = row4col[j] as number;
      if (owner === -1) sink = j;
      else {
        i = owner;
        rowSpc[nScanned] = lowest;
      }
    }

    // dual update, in lsapKernel's expressions (v goes back into the kernel's memory)
    u[curRow] = (u[curRow] as number) + minVal;
    for (let k = 1; k < nScanned; k++) {
      const r = scannedRows[k] as number;
      u[r] = (u[r] as number) + minVal - (rowSpc[k] as number);
    }
    for (let t = 0; t < nCols; t++) {
      F[at(scannedCols[t] as number, OFF_V)] = (colV[t] as number) - (minVal - (colSpc[t] as number));
    }

    // augment along the path back to curRow
    let j = sink;
    for (;;) {
      const r = F[at(j, OFF_PATH)] as number;
      row4col[j] = r;
      const prev = col4row[r] as number;
      col4row[r] = j;
      j = prev;
      if (r === curRow) break;
    }
    F[at(sink, OFF_KEY)] = sink + MATCHED;
    // (no reset of the distances: the next search starts with scanFirst)
  }
  for (let j = 0; j < nc; j++) v[j] = F[at(j, OFF_V)] as number;
  return { col4row, row4col, u, v };
}
