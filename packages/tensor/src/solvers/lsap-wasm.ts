// The shortest-augmenting-path search of lsap.ts (`lsapKernel`) with its inner loop — one scan of
// a row's reduced costs — as a WebAssembly SIMD (f64x2) kernel, assembled at load time from the
// shared byte helpers (../wasm-asm.ts; no binary blob, no build step).
//
// Same algorithm, same tie-breaks, same IEEE-754 double arithmetic as the JavaScript kernel, so
// assignments and dual potentials are bit-identical (tested against it in lsap-wasm.test.ts):
// - the JavaScript scan visits the unscanned columns in the order of its `remaining` list; this
//   one sweeps every column in index order and masks the scanned ones. Which column is picked
//   does not depend on the visiting order: the rule (lowest tentative distance, then an unmatched
//   column, then the lowest index) is a total order on the candidates. Each f64x2 lane keeps the
//   best of its own columns (it sees them in increasing index order, so among equal distances
//   and equal freeness the first one seen stays), and the four lane winners are combined here by
//   the full rule;
// - a reduced cost is `(shift + cost) - v`, the same two roundings as `shift + cost - v` in
//   JavaScript, with no fused multiply-add; the dual updates run in JavaScript on the values the
//   kernel stored, in the same expressions as lsapKernel;
// - masking never alters a value: a scanned column's distance is replaced by +Infinity only in
//   the comparison, never in the stored array. (Signed zeros cannot differ either: a reduced
//   cost is -0 only if the shift is, which needs a -0 minimum first; the search starts at +0.)
//
// Layout in WebAssembly memory: per pair of columns (2j, 2j+1) one 80-byte block
// [v, v | spc, spc | path, path | scanned, scanned | free, free] (f64 values; path holds the row
// index as a double; scanned/free are all-ones or all-zero lane masks), then the cost matrix, its
// rows padded to a multiple of 4 columns. Padding columns are permanently "scanned", so they are
// never updated or picked.
import { ADD, BLOCK, END, F64, I32, LOOP, LT_U, EQZ, br, brIf, get, i32c, name, section, set, simd, uleb, vec, type Code } from '../wasm-asm.js';
import { columnReductionStart, type LsapKernelResult } from './lsap-kernel.js';

/** The minimal subset of the WebAssembly JS API used here (typed locally: lib.dom is not loaded). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
/** scan(pRow, pCol, nQuads, shift, row, pOut) — see scanBody. */
type ScanFn = (pRow: number, pCol: number, nQuads: number, shift: number, row: number, pOut: number) => void;

// --- instructions beyond the shared assembler ------------------------------------------------
const vLoad = (offset: number): Code => simd(0, 4, ...uleb(offset)); // v128.load align=16
const vStore = (offset: number): Code => simd(11, 4, ...uleb(offset));
const F64X2_SPLAT = simd(20);
const F64X2_EQ = simd(71);
const F64X2_LT = simd(73);
const F64X2_ADD = simd(240);
const F64X2_SUB = simd(241);
const V_AND = simd(78);
const V_ANDNOT = simd(79);
const V_OR = simd(80);
const BITSELECT = simd(82);
const f64x2Const = (a: number, b: number): Code => simd(12, ...new Uint8Array(Float64Array.of(a, b).buffer));
const ALL_ONES = simd(12, ...new Array<number>(16).fill(0xff));

/** Bytes of one column-pair block and the offsets of its fields. */
const BLOCK_BYTES = 80;
const OFF_V = 0;
const OFF_SPC = 16;
const OFF_PATH = 32;
const OFF_SCANNED = 48;
const OFF_FREE = 64;
/** Doubles per block. */
const BLOCK_DOUBLES = BLOCK_BYTES / 8;

/**
 * `scan(pRow, pCol, nQuads, shift, row, pOut)`: for every column j < 4 nQuads (cost row at byte
 * address pRow, column blocks at pCol):
 *   r = (shift + cost[j]) - v[j]; if (!scanned[j] && r < spc[j]) { spc[j] = r; path[j] = row }
 * and, over the unscanned columns, the best (spc, free, j) by the rule "lower spc; at equal
 * finite spc a free column; then the lower index", kept per lane: lanes (4q, 4q+1) in the first
 * set, (4q+2, 4q+3) in the second. Writes [bestD0, bestJ0, bestFree0, bestD1, bestJ1, bestFree1]
 * (six v128) at pOut. A lane that saw no finite distance reports +Infinity.
 */
function scanBody(): Code {
  // params: 0 pRow, 1 pCol, 2 nQuads (i32), 3 shift, 4 row (f64); 5 pOut (i32)
  // i32 local: 6 q
  // v128 locals: 7 SH, 8 RW, 9 INF, 10 FOUR, 11 J0, 12 J1, 13 BD0, 14 BJ0, 15 BF0, 16 BD1,
  //              17 BJ1, 18 BF1, 19 R, 20 D, 21 M, 22 SC, 23 DS, 24 FR, 25 T
  const SH = 7, RW = 8, INFV = 9, FOUR = 10;
  const J = [11, 12];
  const BD = [13, 16];
  const BJ = [14, 17];
  const BF = [15, 18];
  const R = 19, D = 20, M = 21, SC = 22, DS = 23, FR = 24, T = 25;
  const c: Code = [];
  c.push(...get(3), ...F64X2_SPLAT, ...set(SH));
  c.push(...get(4), ...F64X2_SPLAT, ...set(RW));
  c.push(...f64x2Const(Infinity, Infinity), ...set(INFV));
  c.push(...f64x2Const(4, 4), ...set(FOUR));
  c.push(...f64x2Const(0, 1), ...set(J[0] as number));
  c.push(...f64x2Const(2, 3), ...set(J[1] as number));
  for (let s = 0; s < 2; s++) {
    c.push(...get(INFV), ...set(BD[s] as number));
    c.push(...ALL_ONES, ...set(BF[s] as number)); // "free" start: no tie can replace +Infinity
    c.push(...f64x2Const(-1, -1), ...set(BJ[s] as number));
  }
  c.push(...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(6), ...get(2), ...LT_U, ...EQZ, ...brIf(1));
  for (let s = 0; s < 2; s++) {
    const o = s * BLOCK_BYTES;
    const bd = BD[s] as number;
    const bj = BJ[s] as number;
    const bf = BF[s] as number;
    const jv = J[s] as number;
    // R = (SH + cost) - v
    c.push(...get(SH), ...get(0), ...vLoad(16 * s), ...F64X2_ADD, ...get(1), ...vLoad(o + OFF_V), ...F64X2_SUB, ...set(R));
    c.push(...get(1), ...vLoad(o + OFF_SPC), ...set(D));
    c.push(...get(1), ...vLoad(o + OFF_SCANNED), ...set(SC));
    // M = (R < D) & ~scanned
    c.push(...get(R), ...get(D), ...F64X2_LT, ...get(SC), ...V_ANDNOT, ...set(M));
    // D = M ? R : D; store spc and path
    c.push(...get(R), ...get(D), ...get(M), ...BITSELECT, ...set(D));
    c.push(...get(1), ...get(D), ...vStore(o + OFF_SPC));
    c.push(...get(1), ...get(RW), ...get(1), ...vLoad(o + OFF_PATH), ...get(M), ...BITSELECT, ...vStore(o + OFF_PATH));
    // DS = scanned ? +Inf : D;  FR = free
    c.push(...get(INFV), ...get(D), ...get(SC), ...BITSELECT, ...set(DS));
    c.push(...get(1), ...vLoad(o + OFF_FREE), ...set(FR));
    // T = (DS < BD) | ((DS == BD) & FR & ~BF)
    c.push(...get(DS), ...get(bd), ...F64X2_LT);
    c.push(...get(DS), ...get(bd), ...F64X2_EQ, ...get(FR), ...get(bf), ...V_ANDNOT, ...V_AND, ...V_OR, ...set(T));
    c.push(...get(DS), ...get(bd), ...get(T), ...BITSELECT, ...set(bd));
    c.push(...get(jv), ...get(bj), ...get(T), ...BITSELECT, ...set(bj));
    c.push(...get(FR), ...get(bf), ...get(T), ...BITSELECT, ...set(bf));
    c.push(...get(jv), ...get(FOUR), ...F64X2_ADD, ...set(jv));
  }
  c.push(...get(0), ...i32c(32), ...ADD, ...set(0));
  c.push(...get(1), ...i32c(2 * BLOCK_BYTES), ...ADD, ...set(1));
  c.push(...get(6), ...i32c(1), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  const outs = [BD[0], BJ[0], BF[0], BD[1], BJ[1], BF[1]] as number[];
  outs.forEach((l, k) => c.push(...get(5), ...get(l), ...vStore(16 * k)));
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(19), 0x7b],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [F64], [F64], [I32]]), ...vec([])]])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('scan'), 0x00, 0]])),
    ...section(10, vec([scanBody()])),
  ]);
}

interface WasmState {
  api: WasmApi;
  module: object;
  memory: WasmMemory;
  scan: ScanFn;
}

let state: WasmState | null | undefined;
type Mode = 'auto' | 'always' | 'never';
let mode: Mode = 'auto';

/**
 * Smallest number of rows (of the internal nr x nc problem, nr <= nc) for which
 * {@link linearSumAssignment} uses the WebAssembly kernel by default; below it the JavaScript
 * kernel, which gives the same result, is as fast.
 */
export const LSAP_WASM_MIN_ROWS = 0;

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

function instantiate(api: WasmApi, module: object, memory: WasmMemory): ScanFn | null {
  const instance = new api.Instance(module, { env: { mem: memory } });
  const fn = instance.exports['scan'];
  return typeof fn === 'function' ? (fn as ScanFn) : null;
}

function wasmState(): WasmState | null {
  if (state !== undefined) return state;
  state = null;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (api !== undefined) {
      const module = new api.Module(moduleBytes());
      const memory = new api.Memory({ initial: 1 });
      const scan = instantiate(api, module, memory);
      if (scan !== null) state = { api, module, memory, scan };
    }
  } catch {
    state = null; // no WebAssembly SIMD here: the JavaScript kernel is used
  }
  return state;
}

/** True when the WebAssembly LSAP kernel can run here. */
export function lsapWasmAvailable(): boolean {
  return wasmState() !== null;
}

/** Working memory kept between calls (larger problems get a temporary memory). */
const KEEP_BYTES = 64 * 2 ** 20;

function scanWithMemory(bytes: number): { memory: WasmMemory; scan: ScanFn } | null {
  const st = wasmState();
  if (st === null) return null;
  try {
    if (bytes <= KEEP_BYTES) {
      const have = st.memory.buffer.byteLength;
      if (have < bytes) st.memory.grow(Math.ceil((bytes - have) / 65536));
      return st;
    }
    const memory = new st.api.Memory({ initial: Math.ceil(bytes / 65536) });
    const scan = instantiate(st.api, st.module, memory);
    return scan === null ? null : { memory, scan };
  } catch {
    return null; // out of memory for wasm: the caller falls back to JavaScript
  }
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
  readonly scan: ScanFn;
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
  const st = scanWithMemory(bytes);
  if (st === null) return null;
  return { nr, nc, stride, off, F: new Float64Array(st.memory.buffer), memory: st.memory, scan: st.scan };
}

/**
 * The solve of {@link lsapKernel} on a cost matrix already in WebAssembly memory; bit-identical
 * to `lsapKernel` on the same matrix (assignment and potentials). Returns null when infeasible.
 */
export function lsapKernelWasm(inp: LsapWasmInput): LsapKernelResult | null {
  const { nr, nc, stride, off, scan } = inp;
  const F = new Float64Array(inp.memory.buffer); // fresh views: the memory may have grown since
  const I = new Int32Array(inp.memory.buffer);
  const u = new Float64Array(nr);
  const col4row = new Int32Array(nr).fill(-1);
  const row4col = new Int32Array(nc).fill(-1);
  const vJs = new Float64Array(nc);
  if (nr === 0) return { col4row, row4col, u, v: vJs };
  const { pOut } = layout(nr, nc);
  // field index of column j in F (doubles): block (j >> 1), lane (j & 1)
  const at = (j: number, field: number): number => (j >> 1) * BLOCK_DOUBLES + field / 8 + (j & 1);

  if (nr === nc) {
    // the same column-reduction start as lsapKernel, reading the padded rows
    if (!columnReductionStart(F, off, stride, nr, nc, vJs, col4row, row4col)) return null;
  }
  // column blocks: v, spc = +Inf, path = 0, scanned = padding only, free
  for (let j = 0; j < stride; j++) {
    F[at(j, OFF_V)] = j < nc ? (vJs[j] as number) : 0;
    F[at(j, OFF_SPC)] = Infinity;
    F[at(j, OFF_PATH)] = 0;
    const sc = at(j, OFF_SCANNED) * 2;
    I[sc] = I[sc + 1] = j < nc ? 0 : -1;
    const fr = at(j, OFF_FREE) * 2;
    I[fr] = I[fr + 1] = j < nc && row4col[j] === -1 ? -1 : 0;
  }

  const scannedRows = new Int32Array(nr);
  const scannedCols = new Int32Array(nc);
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
      scannedRows[nScanned++] = i;
      const shift = minVal - (u[i] as number);
      scan((off + i * stride) * 8, 0, nQuads, shift, i, pOut);
      // combine the four lane winners by the full rule
      let lowest = Infinity;
      let lowestJ = -1;
      let lowestFree = false;
      for (let s = 0; s < 2; s++) {
        for (let l = 0; l < 2; l++) {
          const d = F[o + 6 * s + l] as number;
          const j = F[o + 6 * s + 2 + l] as number;
          const free = I[(o + 6 * s + 4 + l) * 2] !== 0;
          if (d < lowest) {
            lowest = d;
            lowestJ = j;
            lowestFree = free;
          } else if (d === lowest && d !== Infinity) {
            if ((free && !lowestFree) || (free === lowestFree && j < lowestJ)) {
              lowestJ = j;
              lowestFree = free;
            }
          }
        }
      }
      if (lowestJ < 0) return null; // every remaining pair is forbidden: infeasible
      minVal = lowest;
      const j = lowestJ;
      const sc = at(j, OFF_SCANNED) * 2;
      I[sc] = I[sc + 1] = -1;
      scannedCols[nCols++] = j;
      const owner = row4col[j] as number;
      if (owner === -1) sink = j;
      else i = owner;
    }

    // dual update, in lsapKernel's expressions
    u[curRow] = (u[curRow] as number) + minVal;
    for (let k = 1; k < nScanned; k++) {
      const r = scannedRows[k] as number;
      u[r] = (u[r] as number) + minVal - (F[at(col4row[r] as number, OFF_SPC)] as number);
    }
    for (let t = 0; t < nCols; t++) {
      const j = scannedCols[t] as number;
      const pv = at(j, OFF_V);
      F[pv] = (F[pv] as number) - (minVal - (F[at(j, OFF_SPC)] as number));
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
    const fr = at(sink, OFF_FREE) * 2;
    I[fr] = I[fr + 1] = 0;

    // reset for the next search: distances, and the scanned marks of this search's columns
    for (let jj = 0; jj < nc; jj++) F[at(jj, OFF_SPC)] = Infinity;
    for (let t = 0; t < nCols; t++) {
      const sc = at(scannedCols[t] as number, OFF_SCANNED) * 2;
      I[sc] = I[sc + 1] = 0;
    }
  }
  for (let j = 0; j < nc; j++) vJs[j] = F[at(j, OFF_V)] as number;
  return { col4row, row4col, u, v: vJs };
}
