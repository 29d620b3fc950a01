// One-pass WebAssembly SIMD (f32x4) kernels that work in place on the tfjs wasm backend's own
// memory: batchnorm statistics/normalisation and their backward passes, MaxPoolGrad, relu's
// gradient, and the SGD and Adam parameter updates. The module is assembled at load time from the
// instruction helpers below (no binary blob, no build step) and instantiated with the backend's
// WebAssembly.Memory imported, so the kernels read and write tensors where they are: callers pass byte offsets taken
// right before each call (the memory may grow; the module always sees its current buffer).
//
// Safety: wasm bounds-checks every access (an offset past the end traps with an exception), but a
// wrong offset inside the heap would silently overwrite other tensors, so `SimdKernels` checks each
// region (in range, 4-byte aligned, big enough) before every call. Everything returns null/false
// when WebAssembly SIMD or the backend's memory is unavailable; callers keep their previous path.
//
// Arithmetic is float32 (as the composed tfjs ops); the batchnorm sums add float32 partial sums of
// 16 rows into float64 accumulators, so long reductions do not lose precision.
import { ADD, AND, BLOCK, END, F32, F64_ADD, GE_S, GT_S, I32, IF, LOOP, LT_S, MUL, SUB, V128, V_ZERO, br, brIf, get, i32c, name as str, section, set, simd, uleb, vec, type Code, type WasmMemory, webAssemblyApi } from '../wasm-asm.js';

// --- instructions beyond the shared assembler (../wasm-asm.ts) --------------------------------

const SELECT = [0x1b];
const f32Load = [0x2a, 2, 0];
const f32Store = [0x38, 2, 0];
const f64Load = [0x2b, 3, 0];
const f64Store = [0x39, 3, 0];
const F64_PROMOTE = [0xbb];
const vLoad = simd(0, 2, 0); // v128.load (align hint 4 bytes: tensors are only float-aligned)
const vStore = simd(11, 2, 0);
const F32X4_SPLAT = simd(19);
const I32X4_SPLAT = simd(17);
const I32X4_ADD = simd(174);
const F32X4_GT = simd(68);
const BITSELECT = simd(82);
const f32Lane = (i: number): Code => simd(31, i);
const i32Lane = (i: number): Code => simd(27, i);
const v128Const = (bytes: number[]): Code => simd(12, ...bytes);
const i32x4Const = (a: number, b: number, c: number, d: number): Code => v128Const(Array.from(new Uint8Array(Int32Array.of(a, b, c, d).buffer)));
const f32c = (v: number): Code => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)]; // f32.const
const f32x4Splat = (v: number): Code => v128Const(Array.from(new Uint8Array(Float32Array.of(v, v, v, v).buffer)));

/** Float32 arithmetic on one lane (scalar tails) or four (the SIMD loop), for shared emitters. */
interface Ty {
  bytes: number;
  load: Code;
  store: Code;
  add: Code;
  sub: Code;
  mul: Code;
  div: Code;
  sqrt: Code;
  local: number;
}
const VEC: Ty = { bytes: 16, load: vLoad, store: vStore, add: simd(228), sub: simd(229), mul: simd(230), div: simd(231), sqrt: simd(227), local: V128 };
const SCA: Ty = { bytes: 4, load: f32Load, store: f32Store, add: [0x92], sub: [0x93], mul: [0x94], div: [0x95], sqrt: [0x91], local: F32 };

interface FnDef {
  name: string;
  params: number[];
  locals: number[];
  body: Code;
}

/**
 * A loop over `rows` rows of `C` floats: stream pointers advance by a row, channel pointers are
 * indexed by the position in the row; f32 scalar parameters are splatted for the SIMD loop. The
 * statement runs per 4 channels (SIMD) and per channel for the C mod 4 tail. With `fold`, the
 * fold statement runs over every channel (scalar) after each 16 rows and after the last.
 * Params: streams..., rows, C, channels..., scalars (f32)..., foldPtrs....
 */
interface RowwiseSpec {
  name: string;
  streams: number;
  chans: number;
  scalars: number;
  /** extra i32 params used by fold */
  foldPtrs?: number;
  /** emits one element's work; temps: 4 locals of the type */
  stmt: (ty: Ty, s: (i: number) => Code, ch: (k: number) => Code, sc: (k: number) => Code, tmp: (k: number) => number) => Code;
  fold?: (ch: (k: number) => Code, fp: (k: number) => Code) => Code;
}

const FOLD_ROWS = 16;

function rowwise(spec: RowwiseSpec): FnDef {
  const { streams, chans, scalars } = spec;
  const foldPtrs = spec.foldPtrs ?? 0;
  const pRows = streams;
  const pC = streams + 1;
  const chan0 = streams + 2;
  const sc0 = chan0 + chans;
  const fp0 = sc0 + scalars;
  const nParams = fp0 + foldPtrs;
  // locals: i32 r, j, jEnd4, jEnd; v128 splats (scalars), v128 temps 4, f32 temps 4
  const r = nParams;
  const j = r + 1;
  const jEnd4 = r + 2;
  const jEnd = r + 3;
  const splat0 = r + 4;
  const vt0 = splat0 + scalars;
  const ft0 = vt0 + 4;
  const locals = [I32, I32, I32, I32, ...new Array<number>(scalars).fill(V128), V128, V128, V128, V128, F32, F32, F32, F32];
  const c: Code = [];
  for (let k = 0; k < scalars; k++) c.push(...get(sc0 + k), ...F32X4_SPLAT, ...set(splat0 + k));
  c.push(...get(pC), ...i32c(2), 0x74 /* shl */, ...set(jEnd));
  c.push(...get(jEnd), ...i32c(-16), ...AND, ...set(jEnd4));
  c.push(...i32c(0), ...set(r));
  const inner = (ty: Ty, end: number): Code => {
    const s = (i: number): Code => [...get(i), ...get(j), ...ADD];
    const ch = (k: number): Code => [...get(chan0 + k), ...get(j), ...ADD];
    const sc = (k: number): Code => (ty === VEC ? get(splat0 + k) : get(sc0 + k));
    const tmp = (k: number): number => (ty === VEC ? vt0 : ft0) + k;
    return [
      ...BLOCK, ...LOOP,
      ...get(j), ...get(end), ...GE_S, ...brIf(1),
      ...spec.stmt(ty, s, ch, sc, tmp),
      ...get(j), ...i32c(ty.bytes), ...ADD, ...set(j),
      ...br(0), ...END, ...END,
    ];
  };
  c.push(...BLOCK, ...LOOP);
  c.push(...get(r), ...get(pRows), ...GE_S, ...brIf(1));
  c.push(...i32c(0), ...set(j), ...inner(VEC, jEnd4), ...inner(SCA, jEnd));
  for (let i = 0; i < streams; i++) c.push(...get(i), ...get(jEnd), ...ADD, ...set(i));
  c.push(...get(r), ...i32c(1), ...ADD, ...set(r));
  if (spec.fold !== undefined) {
    const fold = spec.fold;
    // after each FOLD_ROWS rows and after the last row
    c.push(...get(r), ...i32c(FOLD_ROWS - 1), ...AND, 0x45 /* eqz */, ...get(r), ...get(pRows), 0x46 /* eq */, 0x72 /* or */, ...IF);
    c.push(...i32c(0), ...set(j));
    c.push(...BLOCK, ...LOOP, ...get(j), ...get(jEnd), ...GE_S, ...brIf(1));
    c.push(...fold((k) => [...get(chan0 + k), ...get(j), ...ADD], (k) => [...get(fp0 + k), ...get(j), ...i32c(1), 0x74, ...ADD]));
    c.push(...get(j), ...i32c(4), ...ADD, ...set(j), ...br(0), ...END, ...END);
    c.push(...END);
  }
  c.push(...br(0), ...END, ...END);
  const params = [...new Array<number>(streams).fill(I32), I32, I32, ...new Array<number>(chans).fill(I32), ...new Array<number>(scalars).fill(F32), ...new Array<number>(foldPtrs).fill(I32)];
  return { name: spec.name, params, locals, body: c };
}

// --- kernels ----------------------------------------------------------------------------------

/** Adds a float32 partial sum (at address `a`) into its float64 sum (at `s`) and zeroes the partial. */
const foldPartial = (s: Code, a: Code): Code => [...s, ...s, ...f64Load, ...a, ...f32Load, ...F64_PROMOTE, ...F64_ADD, ...f64Store, ...a, ...f32c(0), ...f32Store];

/**
 * bnSums: per channel, over rows, in float64 (16-row float32 partial sums):
 * mode 'stats' (streams X): d = x − k; S1 += d, S2 += d²;
 * mode 'grad' (streams U, X): d = x − k; S1 += u, S2 += u·d.
 * Channels: K, A1, A2 (float32 partial sums, zero on entry, left zero); fold ptrs S1, S2 (float64).
 */
function bnSums(mode: 'stats' | 'grad'): FnDef {
  const grad = mode === 'grad';
  const X = grad ? 1 : 0;
  return rowwise({
    name: grad ? 'bnSumsGrad' : 'bnSums',
    streams: grad ? 2 : 1,
    chans: 3,
    scalars: 0,
    foldPtrs: 2,
    stmt: (ty, s, ch, _sc, tmp) => {
      const d = tmp(0);
      const u = tmp(1);
      const c: Code = [...s(X), ...ty.load, ...ch(0), ...ty.load, ...ty.sub, ...set(d)];
      c.push(...(grad ? [...s(0), ...ty.load, ...set(u)] : [...get(d), ...set(u)]));
      c.push(...ch(1), ...ch(1), ...ty.load, ...get(u), ...ty.add, ...ty.store);
      c.push(...ch(2), ...ch(2), ...ty.load, ...get(u), ...get(d), ...ty.mul, ...ty.add, ...ty.store);
      return c;
    },
    fold: (ch, fp) => {
      const c: Code = [];
      for (const [a, sIdx] of [
        [1, 0],
        [2, 1],
      ] as const) {
        c.push(...foldPartial(fp(sIdx), ch(a)));
      }
      return c;
    },
  });
}

/** bnAffine: Y = (X − M)·A + B per channel (streams X, Y; channels M, A, B). */
const bnAffine = (): FnDef =>
  rowwise({
    name: 'bnAffine',
    streams: 2,
    chans: 3,
    scalars: 0,
    stmt: (ty, s, ch) => [...s(1), ...s(0), ...ty.load, ...ch(0), ...ty.load, ...ty.sub, ...ch(1), ...ty.load, ...ty.mul, ...ch(2), ...ty.load, ...ty.add, ...ty.store],
  });

/** addRows: Y = X + B per channel (streams X, Y; channel B): a bias added to every row. */
const addRows = (): FnDef =>
  rowwise({
    name: 'addRows',
    streams: 2,
    chans: 1,
    scalars: 0,
    stmt: (ty, s, ch) => [...s(1), ...s(0), ...ty.load, ...ch(0), ...ty.load, ...ty.add, ...ty.store],
  });

/** bnBackDx: DX = A·D + Bc·(X − M) + K per channel (streams D, X, DX; channels M, A, Bc, K). */
const bnBackDx = (): FnDef =>
  rowwise({
    name: 'bnBackDx',
    streams: 3,
    chans: 4,
    scalars: 0,
    stmt: (ty, s, ch) => [
      ...s(2),
      ...ch(1), ...ty.load, ...s(0), ...ty.load, ...ty.mul,
      ...ch(2), ...ty.load, ...s(1), ...ty.load, ...ch(0), ...ty.load, ...ty.sub, ...ty.mul, ...ty.add,
      ...ch(3), ...ty.load, ...ty.add,
      ...ty.store,
    ],
  });

/**
 * reluGrad (streams DY, X, OUT): OUT = DY · step(X), step(x) = 1 for x > 0, NaN for NaN, else 0 —
 * tfjs' `mul(dy, step(x))` in one pass.
 */
function reluGrad(): FnDef {
  return rowwise({
    name: 'reluGrad',
    streams: 3,
    chans: 0,
    scalars: 0,
    stmt: (ty, s, _ch, _sc, tmp) => {
      const x = tmp(0);
      return [...s(1), ...ty.load, ...set(x), ...s(2), ...s(0), ...ty.load, ...stepTimes(ty, x), ...ty.store];
    },
  });
}

/** `step(x)` times the value on the stack (tfjs' relu gradient: 1 for x > 0, NaN for NaN, else 0); x in local `x`. */
function stepTimes(ty: Ty, x: number): Code {
  if (ty === VEC) {
    // (1 & (x > 0)) | (x & (x != x))
    return [...f32x4Splat(1), ...get(x), ...V_ZERO, ...F32X4_GT, ...simd(78), ...get(x), ...get(x), ...get(x), ...simd(66) /* f32x4.ne */, ...simd(78), ...simd(80) /* v128.or */, ...ty.mul];
  }
  // x > 0 ? 1 : (x != x ? x : 0)
  return [...f32c(1), ...get(x), ...f32c(0), ...get(x), ...get(x), 0x5c /* f32.ne */, ...SELECT, ...get(x), ...f32c(0), 0x5e /* f32.gt */, ...SELECT, ...ty.mul];
}

/**
 * biasRelu (streams X, Y; channel B): Y = relu(X + B) per channel, relu(v) = v for v > 0 or NaN,
 * else 0 — tfjs' Add then Relu in one pass (the same float32 sum).
 */
const biasRelu = (): FnDef =>
  rowwise({
    name: 'biasRelu',
    streams: 2,
    chans: 1,
    scalars: 0,
    stmt: (ty, s, ch, _sc, tmp) => {
      const v = tmp(0);
      const c: Code = [...s(1), ...s(0), ...ty.load, ...ch(0), ...ty.load, ...ty.add, ...set(v)];
      if (ty === VEC) c.push(...get(v), ...get(v), ...V_ZERO, ...F32X4_GT, ...get(v), ...get(v), ...simd(66), ...simd(80), ...simd(78) /* v & ((v > 0) | (v != v)) */);
      else c.push(...get(v), ...f32c(0), ...get(v), ...f32c(0), 0x5e /* f32.gt */, ...get(v), ...get(v), 0x5c /* f32.ne */, 0x72 /* i32.or */, ...SELECT);
      c.push(...ty.store);
      return c;
    },
  });

/**
 * reluGradSums (streams DY, Y, DZ; channel A, float32 partial sums, zero on entry, left zero; fold
 * pointer S, float64): DZ = DY · step(Y) (the relu gradient from relu's output: y > 0 exactly when
 * its input is) and S += DZ per channel, float32 partial sums of 16 rows added into float64.
 * Without relu, `columnSums` (stream DY only): S += DY.
 */
const reluGradSums = (relu: boolean): FnDef =>
  rowwise({
    name: relu ? 'reluGradSums' : 'columnSums',
    streams: relu ? 3 : 1,
    chans: 1,
    scalars: 0,
    foldPtrs: 1,
    stmt: (ty, s, ch, _sc, tmp) => {
      const y = tmp(0);
      const d = tmp(1);
      const c: Code = relu ? [...s(1), ...ty.load, ...set(y), ...s(0), ...ty.load, ...stepTimes(ty, y), ...set(d), ...s(2), ...get(d), ...ty.store] : [...s(0), ...ty.load, ...set(d)];
      return [...c, ...ch(0), ...ch(0), ...ty.load, ...get(d), ...ty.add, ...ty.store];
    },
    fold: (ch, fp) => foldPartial(fp(0), ch(0)),
  });

/**
 * SGD (streams P, G, [Bf], PO, [BO]; scalars lr, mu, keep, wd, s):
 * d = g·s + wd·p; with momentum b = first ? d : mu·bf + keep·d, BO = b, d = nesterov ? d + mu·b : b;
 * PO = p − lr·d.
 */
function sgd(momentum: boolean, first: boolean, nesterov: boolean): FnDef {
  const bufIn = momentum && !first;
  const P = 0;
  const G = 1;
  const BF = 2;
  const PO = bufIn ? 3 : 2;
  const BO = PO + 1;
  return rowwise({
    name: `sgd${momentum ? 'M' : ''}${first ? 'F' : ''}${nesterov ? 'N' : ''}`,
    streams: 2 + (bufIn ? 1 : 0) + 1 + (momentum ? 1 : 0),
    chans: 0,
    scalars: 5,
    stmt: (ty, s, _ch, sc, tmp) => {
      const [lr, mu, keep, wd, gs] = [0, 1, 2, 3, 4].map(sc) as [Code, Code, Code, Code, Code];
      const p = tmp(0);
      const d = tmp(1);
      const b = tmp(2);
      const c: Code = [...s(P), ...ty.load, ...set(p)];
      c.push(...s(G), ...ty.load, ...gs, ...ty.mul, ...wd, ...get(p), ...ty.mul, ...ty.add, ...set(d));
      if (momentum) {
        if (bufIn) c.push(...mu, ...s(BF), ...ty.load, ...ty.mul, ...keep, ...get(d), ...ty.mul, ...ty.add, ...set(b));
        else c.push(...get(d), ...set(b));
        c.push(...s(BO), ...get(b), ...ty.store);
        if (nesterov) c.push(...get(d), ...mu, ...get(b), ...ty.mul, ...ty.add, ...set(d));
        else c.push(...get(b), ...set(d));
      }
      c.push(...s(PO), ...get(p), ...lr, ...get(d), ...ty.mul, ...ty.sub, ...ty.store);
      return c;
    },
  });
}

/**
 * Adam (streams P, G, [M, V], PO, MO, VO; scalars gs, l2, shrink, b1, c1, b2, c2, rate, sb2, eps):
 * g = G·gs + l2·P; m = b1·M + c1·g (first: c1·g); v = b2·V + c2·g² (first: c2·g²);
 * PO = P·shrink − (m/(√v/sb2 + eps))·rate.
 */
function adam(first: boolean): FnDef {
  const P = 0;
  const G = 1;
  const M = 2;
  const V = 3;
  const PO = first ? 2 : 4;
  return rowwise({
    name: first ? 'adamF' : 'adam',
    streams: first ? 5 : 7,
    chans: 0,
    scalars: 10,
    stmt: (ty, s, _ch, sc, tmp) => {
      const [gs, l2, shrink, b1, c1, b2, c2, rate, sb2, eps] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(sc) as Code[] as [Code, Code, Code, Code, Code, Code, Code, Code, Code, Code];
      const p = tmp(0);
      const g = tmp(1);
      const m = tmp(2);
      const v = tmp(3);
      const c: Code = [...s(P), ...ty.load, ...set(p)];
      c.push(...s(G), ...ty.load, ...gs, ...ty.mul, ...l2, ...get(p), ...ty.mul, ...ty.add, ...set(g));
      c.push(...c1, ...get(g), ...ty.mul);
      if (!first) c.push(...b1, ...s(M), ...ty.load, ...ty.mul, ...ty.add);
      c.push(...set(m));
      c.push(...c2, ...get(g), ...get(g), ...ty.mul, ...ty.mul);
      if (!first) c.push(...b2, ...s(V), ...ty.load, ...ty.mul, ...ty.add);
      c.push(...set(v));
      c.push(...s(PO + 1), ...get(m), ...ty.store, ...s(PO + 2), ...get(v), ...ty.store);
      c.push(...s(PO), ...get(p), ...shrink, ...ty.mul);
      c.push(...get(m), ...get(v), ...ty.sqrt, ...sb2, ...ty.div, ...eps, ...ty.add, ...ty.div, ...rate, ...ty.mul);
      c.push(...ty.sub, ...ty.store);
      return c;
    },
  });
}

/**
 * maxPoolGrad(pX, pD, pG, b, h, w, c, oh, ow, sh, sw, fh, fw, top, left): G (zeroed by the caller)
 * += dy at the first maximum of each window, per channel; c must be a multiple of 4.
 * `direct` (windows that do not overlap): each window's positions are written once, dy at the
 * first maximum and 0 elsewhere, with vector stores (positions outside every window are left as
 * they are: the caller zeroes them).
 */
function maxPoolGrad(direct: boolean): FnDef {
  // params 0 pX, 1 pD, 2 pG, 3 b, 4 h, 5 w, 6 c, 7 oh, 8 ow, 9 sh, 10 sw, 11 fh, 12 fw, 13 top, 14 left
  const [pX, pD, pG, B, H, W, Cc, OH, OW, SH, SW, FH, FW, TOP, LEFT] = Array.from({ length: 15 }, (_, i) => i) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  // i32 locals
  const L = 15;
  const [n, oy, ox, yLo, yHi, xLo, xHi, iy, ix, j, cb, o, t, addr, a] = Array.from({ length: 15 }, (_, i) => L + i) as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  const best = L + 15;
  const at = L + 16;
  const v = L + 17;
  const m = L + 18;
  const d = L + 19;
  const locals = [...new Array<number>(15).fill(I32), V128, V128, V128, V128, V128];
  const loopTo = (i: number, lo: Code, hi: Code, body: Code): Code => [
    ...lo, ...set(i),
    ...BLOCK, ...LOOP, ...get(i), ...hi, ...GE_S, ...brIf(1),
    ...body,
    ...get(i), ...i32c(1), ...ADD, ...set(i), ...br(0), ...END, ...END,
  ];
  const max0 = (e: Code): Code => [...e, ...set(t), ...get(t), ...i32c(0), ...get(t), ...i32c(0), ...GT_S, ...SELECT];
  const minOf = (e: Code, lim: Code): Code => [...e, ...set(t), ...get(t), ...lim, ...get(t), ...lim, ...LT_S, ...SELECT];
  const lanes: Code = [];
  for (let k = 0; k < 4; k++) {
    lanes.push(...get(at), ...i32Lane(k), ...set(a));
    lanes.push(...get(a), ...i32c(0), ...GE_S, ...IF);
    lanes.push(...get(a), ...get(pX), ...SUB, ...get(pG), ...ADD, ...set(a));
    lanes.push(...get(a), ...get(a), ...f32Load, ...get(d), ...f32Lane(k), 0x92, ...f32Store);
    lanes.push(...END);
  }
  const window: Code = loopTo(iy, get(yLo), get(yHi), loopTo(ix, get(xLo), get(xHi), [
    // addr = pX + ((n*h + iy)*w + ix)*cb + j
    ...get(pX), ...get(n), ...get(H), ...MUL, ...get(iy), ...ADD, ...get(W), ...MUL, ...get(ix), ...ADD, ...get(cb), ...MUL, ...ADD, ...get(j), ...ADD, ...set(addr),
    ...get(addr), ...vLoad, ...set(v),
    ...get(v), ...get(best), ...F32X4_GT, ...set(m),
    ...get(v), ...get(best), ...get(m), ...BITSELECT, ...set(best),
    ...get(addr), ...I32X4_SPLAT, ...i32x4Const(0, 4, 8, 12), ...I32X4_ADD, ...get(at), ...get(m), ...BITSELECT, ...set(at),
  ]));
  // direct: second walk over the window, G = dy where the lane's address is the maximum, else 0
  const writeBack: Code = loopTo(iy, get(yLo), get(yHi), loopTo(ix, get(xLo), get(xHi), [
    ...get(pX), ...get(n), ...get(H), ...MUL, ...get(iy), ...ADD, ...get(W), ...MUL, ...get(ix), ...ADD, ...get(cb), ...MUL, ...ADD, ...get(j), ...ADD, ...set(addr),
    ...get(addr), ...get(pX), ...SUB, ...get(pG), ...ADD,
    ...get(d), ...get(addr), ...I32X4_SPLAT, ...i32x4Const(0, 4, 8, 12), ...I32X4_ADD, ...get(at), ...simd(55) /* i32x4.eq */, ...simd(78) /* v128.and */,
    ...vStore,
  ]));
  const chans: Code = [
    ...i32c(0), ...set(j),
    ...BLOCK, ...LOOP, ...get(j), ...get(cb), ...GE_S, ...brIf(1),
    ...f32x4Splat(Number.NEGATIVE_INFINITY), ...set(best),
    ...i32x4Const(-1, -1, -1, -1), ...set(at),
    ...window,
    ...get(o), ...get(j), ...ADD, ...vLoad, ...set(d),
    ...(direct ? writeBack : lanes),
    ...get(j), ...i32c(16), ...ADD, ...set(j), ...br(0), ...END, ...END,
  ];
  const body: Code = [
    ...get(Cc), ...i32c(4), ...MUL, ...set(cb),
    ...get(pD), ...set(o),
    ...loopTo(n, i32c(0), get(B), loopTo(oy, i32c(0), get(OH), [
      ...max0([...get(oy), ...get(SH), ...MUL, ...get(TOP), ...SUB]), ...set(yLo),
      ...minOf([...get(oy), ...get(SH), ...MUL, ...get(TOP), ...SUB, ...get(FH), ...ADD], get(H)), ...set(yHi),
      ...loopTo(ox, i32c(0), get(OW), [
        ...max0([...get(ox), ...get(SW), ...MUL, ...get(LEFT), ...SUB]), ...set(xLo),
        ...minOf([...get(ox), ...get(SW), ...MUL, ...get(LEFT), ...SUB, ...get(FW), ...ADD], get(W)), ...set(xHi),
        ...chans,
        ...get(o), ...get(cb), ...ADD, ...set(o),
      ]),
    ])),
  ];
  return { name: direct ? 'maxPoolGradDirect' : 'maxPoolGrad', params: new Array<number>(15).fill(I32), locals, body };
}

/**
 * 2x2 max pooling with stride 2 and no padding, channels a multiple of 4 (params pX, pO, [pG,]
 * b, oh, ow, rowBytes = w·c·4, c4 = c·4, imgBytes = h·rowBytes): for each output pixel the window is
 * input rows 2oy, 2oy+1 and columns 2ox, 2ox+1, four vector loads per 4 channels.
 * - forward (`grad` false): pO = the window maxima (f32x4.max), output in order;
 * - backward (`grad` true): pO is dy (read in order); pG gets dy at the window's first maximum in
 *   scan order (a strictly greater value replaces it, from −∞: tfjs' rule, as maxPoolGrad) and 0 at
 *   its other three positions (positions in no window are left as they are: the caller zeroes them).
 */
function maxPool2(grad: boolean): FnDef {
  const nP = grad ? 9 : 8;
  const [pX, pO] = [0, 1];
  const pG = 2;
  const [B, OH, OW, ROW, C4, IMG] = grad ? [3, 4, 5, 6, 7, 8] : [2, 3, 4, 5, 6, 7];
  const [n, oy, ox, j, base, q, o] = Array.from({ length: 7 }, (_, i) => nP + i) as [number, number, number, number, number, number, number];
  const [va, vb, vc, vd, best, ga, gb, gc, gd, dy] = Array.from({ length: 10 }, (_, i) => nP + 7 + i) as [number, number, number, number, number, number, number, number, number, number];
  const locals = [...new Array<number>(7).fill(I32), ...new Array<number>(10).fill(V128)];
  const loopTo = (i: number, hi: Code, body: Code): Code => [
    ...i32c(0), ...set(i),
    ...BLOCK, ...LOOP, ...get(i), ...hi, ...GE_S, ...brIf(1),
    ...body,
    ...get(i), ...i32c(1), ...ADD, ...set(i), ...br(0), ...END, ...END,
  ];
  const at = (extra: Code): Code => [...get(q), ...get(j), ...ADD, ...extra];
  const F32X4_MAX = simd(233);
  const ANDV = simd(78);
  const ANDNOT = simd(79);
  const inner: Code = [
    ...at([]), ...vLoad, ...set(va),
    ...at([...get(C4), ...ADD]), ...vLoad, ...set(vb),
    ...at([...get(ROW), ...ADD]), ...vLoad, ...set(vc),
    ...at([...get(ROW), ...ADD, ...get(C4), ...ADD]), ...vLoad, ...set(vd),
  ];
  if (!grad) {
    inner.push(...get(o), ...get(va), ...get(vb), ...F32X4_MAX, ...get(vc), ...get(vd), ...F32X4_MAX, ...F32X4_MAX, ...vStore);
  } else {
    // first strictly greater, from −∞: g_k = v_k > best_k-1; best_k = g_k ? v_k : best_k-1
    inner.push(...f32x4Splat(Number.NEGATIVE_INFINITY), ...set(best));
    for (const [v, g] of [[va, ga], [vb, gb], [vc, gc], [vd, gd]] as const) {
      inner.push(...get(v), ...get(best), ...F32X4_GT, ...set(g));
      inner.push(...get(v), ...get(best), ...get(g), ...BITSELECT, ...set(best));
    }
    inner.push(...get(o), ...vLoad, ...set(dy));
    // the chosen position is the last k with g_k set: d if gd, c if gc & ~gd, b if gb & ~gc & ~gd, a if ga & ~(gb|gc|gd)
    const g = (extra: Code): Code => [...get(q), ...get(pX), ...SUB, ...get(pG), ...ADD, ...get(j), ...ADD, ...extra];
    inner.push(...g([...get(ROW), ...ADD, ...get(C4), ...ADD]), ...get(dy), ...get(gd), ...ANDV, ...vStore);
    inner.push(...get(gc), ...get(gd), ...ANDNOT, ...set(gc)); // gc & ~gd
    inner.push(...g([...get(ROW), ...ADD]), ...get(dy), ...get(gc), ...ANDV, ...vStore);
    inner.push(...get(gc), ...get(gd), ...simd(80), ...set(gd)); // taken = gc | gd (gc already excludes gd)
    inner.push(...get(gb), ...get(gd), ...ANDNOT, ...set(gb));
    inner.push(...g([...get(C4), ...ADD]), ...get(dy), ...get(gb), ...ANDV, ...vStore);
    inner.push(...get(gb), ...get(gd), ...simd(80), ...set(gd));
    inner.push(...get(ga), ...get(gd), ...ANDNOT, ...set(ga));
    inner.push(...g([]), ...get(dy), ...get(ga), ...ANDV, ...vStore);
  }
  inner.push(...get(o), ...i32c(16), ...ADD, ...set(o));
  const jLoop: Code = [
    ...i32c(0), ...set(j),
    ...BLOCK, ...LOOP, ...get(j), ...get(C4), ...GE_S, ...brIf(1),
    ...inner,
    ...get(j), ...i32c(16), ...ADD, ...set(j), ...br(0), ...END, ...END,
  ];
  const body: Code = [
    ...get(pO), ...set(o),
    ...loopTo(n, get(B), loopTo(oy, get(OH), [
      // base = pX + n·imgBytes + 2·oy·rowBytes
      ...get(pX), ...get(n), ...get(IMG), ...MUL, ...ADD, ...get(oy), ...get(oy), ...ADD, ...get(ROW), ...MUL, ...ADD, ...set(base),
      ...loopTo(ox, get(OW), [
        ...get(base), ...get(ox), ...get(ox), ...ADD, ...get(C4), ...MUL, ...ADD, ...set(q),
        ...jLoop,
      ]),
    ])),
  ];
  return { name: grad ? 'maxPool2Grad' : 'maxPool2', params: new Array<number>(nP).fill(I32), locals, body };
}

function allKernels(): FnDef[] {
  const out: FnDef[] = [bnSums('stats'), bnSums('grad'), bnAffine(), addRows(), bnBackDx(), maxPoolGrad(false), maxPoolGrad(true), reluGrad(), biasRelu(), reluGradSums(true), reluGradSums(false), maxPool2(false), maxPool2(true), adam(true), adam(false)];
  for (const [mo, fi, ne] of [
    [false, false, false],
    [true, true, false],
    [true, false, false],
    [true, true, true],
    [true, false, true],
  ] as const) {
    out.push(sgd(mo, fi, ne));
  }
  return out;
}

function moduleBytes(fns: FnDef[]): Uint8Array {
  const body = (f: FnDef): Code => {
    const b = [...vec(f.locals.map((t) => [1, t])), ...f.body, ...END];
    return [...uleb(b.length), ...b];
  };
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec([])]))),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x00, ...uleb(0)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map(body))),
  ]);
}

// --- kernel inputs -----------------------------------------------------------------------------

/**
 * Moves every input of a kernel onto the wasm backend before any view of its heap is taken. tfjs
 * moves a tensor made on another backend lazily, on the backend's first `dataIdMap.get` of it, and
 * the wasm backend's `typedArrayFromHeap` makes that call after reading the heap's buffer: when the
 * move grew the heap, the view was made on the detached buffer (a TypeError in basis' kernels, seen
 * with a tensor that went to the cpu backend and back). basis' wasm kernels call this first; a
 * no-op on other backends.
 */
export function residentInputs(backend: unknown, inputs: Readonly<Record<string, { dataId: object } | null | undefined>>): void {
  const map = (backend as { dataIdMap?: { get(dataId: object): unknown } } | null)?.dataIdMap;
  if (map === undefined || typeof map.get !== 'function') return;
  for (const t of Object.values(inputs)) if (t !== null && t !== undefined) map.get(t.dataId);
}

// --- row merging ------------------------------------------------------------------------------

/**
 * Rows merged per SIMD row: with few channels (MiniMyrtle's first layer has 16) the per-row loop
 * overhead dominates, so m consecutive rows are treated as one row of m·C channels (per-channel
 * vectors repeated m times, sums folded back); m is a power of two dividing the row count.
 */
export function mergedRows(rows: number, C: number): number {
  let m = 1;
  while (C * m < 64 && rows % (2 * m) === 0) m *= 2;
  return m;
}

/** `dst[i·C + c] = src[c]` for i < m. */
export function repeat(dst: Float32Array, src: ArrayLike<number>, C: number, m: number): void {
  for (let i = 0; i < m; i++) for (let c = 0; c < C; c++) dst[i * C + c] = src[c] as number;
}

// --- instantiation on a backend's memory ------------------------------------------------------

type Fn = (...args: number[]) => void;

let compiled: object | null | undefined;
/** BASIS_WASM_SIMD=0 (or off) in the environment, where there is one, turns the kernels off. */
function envDisabled(): boolean {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['BASIS_WASM_SIMD'];
  return v === '0' || v === 'off';
}
let disabled = envDisabled();
const byMemory = new WeakMap<object, SimdKernels | null>();

/**
 * `false` makes {@link simdKernelsFor} return null (the callers' previous paths: composed wasm
 * kernels, JS loops), `true` restores them. Test and benchmark hook.
 */
export function setSimdEnabled(on: boolean): void {
  disabled = !on;
}

function compiledModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const api = webAssemblyApi();
    if (api !== undefined) compiled = new api.Module(moduleBytes(allKernels()));
  } catch {
    compiled = null; // no WebAssembly SIMD here
  }
  return compiled;
}

/** The WebAssembly.Memory of a tfjs wasm backend (Emscripten module in `backend.wasm`), or null. */
function memoryOf(backend: unknown): WasmMemory | null {
  const api = webAssemblyApi();
  if (api === undefined || backend === null || typeof backend !== 'object') return null;
  const mod = (backend as { wasm?: Record<string, unknown> }).wasm;
  if (mod === undefined || mod === null || typeof mod !== 'object') return null;
  const asm = mod['asm'] as Record<string, unknown> | undefined;
  const candidates = [mod['wasmMemory'], asm?.['memory'], asm?.['a'], mod['memory']];
  const heap = mod['HEAPU8'];
  for (const m of candidates) {
    if (m instanceof api.Memory && (!(heap instanceof Uint8Array) || heap.buffer === m.buffer)) return m;
  }
  return null;
}

/** Regions must end at or below this byte address (signed 32-bit comparisons in the kernels). */
const ADDRESS_LIMIT = 2 ** 31;

/** A float32 region of the heap: byte offset and length in floats. */
export interface Region {
  off: number;
  len: number;
}

/**
 * The SIMD kernels bound to one WebAssembly memory. Every method checks its regions against the
 * memory's current size before calling; offsets are byte offsets into that memory.
 */
export class SimdKernels {
  private readonly memory: WasmMemory;
  private readonly fns: Record<string, Fn>;

  constructor(memory: WasmMemory, fns: Record<string, Fn>) {
    this.memory = memory;
    this.fns = fns;
  }

  /** The memory's current buffer (views on it go stale when the memory grows). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** The region of a view on this memory (throws when the view is on another buffer). */
  region(view: Float32Array): Region {
    if (view.buffer !== this.memory.buffer) throw new Error('wasm-simd: view is not on the backend memory (or the memory grew after the view was taken)');
    return { off: view.byteOffset, len: view.length };
  }

  /**
   * Whether the heap is small enough for the kernels (they compare addresses as signed 32-bit
   * integers: regions must end below 2 GiB). Callers check before allocating and fall back.
   */
  usable(): boolean {
    return this.memory.buffer.byteLength <= ADDRESS_LIMIT;
  }

  private check(what: string, r: Region, need: number): number {
    const size = Math.min(this.memory.buffer.byteLength, ADDRESS_LIMIT);
    if (!Number.isInteger(r.off) || r.off < 0 || r.off % 4 !== 0 || !Number.isInteger(need) || need < 0 || r.len < need || r.off + need * 4 > size) {
      throw new Error(`wasm-simd: ${what} region (byte ${r.off}, ${r.len} floats) cannot hold ${need} floats inside the ${size}-byte heap`);
    }
    return r.off;
  }

  private dims(rows: number, C: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(C) || rows < 0 || C < 0 || rows * C * 4 >= 2 ** 31) throw new Error(`wasm-simd: bad dimensions ${rows} x ${C}`);
  }

  /**
   * Per-channel float64 sums over `rows` rows of x (`[rows, C]`): stats mode (u absent)
   * Σ(x − k), Σ(x − k)²; grad mode Σu, Σu·(x − k), with the shift k a [C] region. `scratch`
   * holds 6C + 1 floats (float32 partial sums, then float64 sums at an 8-byte boundary).
   */
  sums(x: Region, u: Region | null, rows: number, C: number, shift: Region, scratch: Region): { s1: Float64Array; s2: Float64Array } {
    this.dims(rows, C);
    const n = rows * C;
    const sx = this.check('x', x, n);
    const su = u === null ? 0 : this.check('u', u, n);
    const k = this.check('shift', shift, C);
    const a1 = this.check('scratch', scratch, 6 * C + 1);
    const a2 = a1 + 4 * C;
    let s1 = a2 + 4 * C;
    if (s1 % 8 !== 0) s1 += 4;
    const s2 = s1 + 8 * C;
    new Float32Array(this.memory.buffer, a1, 2 * C).fill(0);
    new Float64Array(this.memory.buffer, s1, 2 * C).fill(0);
    if (u === null) (this.fns['bnSums'] as Fn)(sx, rows, C, k, a1, a2, s1, s2);
    else (this.fns['bnSumsGrad'] as Fn)(su, sx, rows, C, k, a1, a2, s1, s2);
    return { s1: new Float64Array(this.memory.buffer, s1, C).slice(), s2: new Float64Array(this.memory.buffer, s2, C).slice() };
  }

  /** y = (x − m)·a + b per channel; m, a, b are [C] regions. */
  affine(x: Region, y: Region, rows: number, C: number, m: Region, a: Region, b: Region): void {
    this.dims(rows, C);
    const n = rows * C;
    (this.fns['bnAffine'] as Fn)(this.check('x', x, n), this.check('y', y, n), rows, C, this.check('m', m, C), this.check('a', a, C), this.check('b', b, C));
  }

  /** y = x + b per channel (b a [C] region): float32 sums, as tfjs' Add. */
  addRows(x: Region, y: Region, rows: number, C: number, b: Region): void {
    this.dims(rows, C);
    const n = rows * C;
    (this.fns['addRows'] as Fn)(this.check('x', x, n), this.check('y', y, n), rows, C, this.check('b', b, C));
  }

  /** dx = a·d + bc·(x − m) + k per channel. */
  backDx(d: Region, x: Region, dx: Region, rows: number, C: number, m: Region, a: Region, bc: Region, k: Region): void {
    this.dims(rows, C);
    const n = rows * C;
    (this.fns['bnBackDx'] as Fn)(this.check('dy', d, n), this.check('x', x, n), this.check('dx', dx, n), rows, C, this.check('m', m, C), this.check('a', a, C), this.check('bc', bc, C), this.check('k', k, C));
  }

  /** MaxPoolGrad into g (zeroed here); channels must be a multiple of 4. */
  maxPoolGrad(x: Region, dy: Region, g: Region, geo: { b: number; h: number; w: number; c: number; oh: number; ow: number; sh: number; sw: number; fh: number; fw: number; top: number; left: number }): void {
    const { b, h, w, c, oh, ow, sh, sw, fh, fw, top, left } = geo;
    if (c % 4 !== 0) throw new Error(`wasm-simd: maxPoolGrad needs channels divisible by 4, got ${c}`);
    for (const v of [b, h, w, c, oh, ow, sh, sw, fh, fw, top, left]) if (!Number.isInteger(v) || v < 0 || v >= 2 ** 30) throw new Error(`wasm-simd: bad pooling geometry ${JSON.stringify(geo)}`);
    this.dims(b * h * w, c);
    this.dims(b * oh * ow, c);
    const nx = b * h * w * c;
    const sx = this.check('x', x, nx);
    const sd = this.check('dy', dy, b * oh * ow * c);
    const sg = this.check('dx', g, nx);
    // windows that do not overlap are written directly; zeroing is needed only where no window
    // reaches (or, with overlaps, everywhere: the kernel then adds into G)
    const direct = sh >= fh && sw >= fw;
    const covered = direct && sh === fh && sw === fw && top === 0 && left === 0 && oh * sh === h && ow * sw === w;
    if (!covered) new Float32Array(this.memory.buffer, sg, nx).fill(0);
    (this.fns[direct ? 'maxPoolGradDirect' : 'maxPoolGrad'] as Fn)(sx, sd, sg, b, h, w, c, oh, ow, sh, sw, fh, fw, top, left);
  }

  /**
   * 2x2 max pooling with stride 2 and no padding over `[b, h, w, c]` (c a multiple of 4): the
   * maxima into y `[b, oh, ow, c]` (oh, ow at most h/2, w/2), or with `grad` = {dy, g}, the
   * gradient into g (`[b, h, w, c]`, zeroed here where no window reaches): dy at each window's first
   * maximum, 0 at its other positions.
   */
  maxPool2(x: Region, y: Region, geo: { b: number; h: number; w: number; c: number; oh: number; ow: number }, grad?: { g: Region }): void {
    const { b, h, w, c, oh, ow } = geo;
    if (c % 4 !== 0 || 2 * oh > h || 2 * ow > w) throw new Error(`wasm-simd: maxPool2 needs channels divisible by 4 and windows inside the input, got ${JSON.stringify(geo)}`);
    for (const v of [b, h, w, c, oh, ow]) if (!Number.isInteger(v) || v < 0 || v >= 2 ** 30) throw new Error(`wasm-simd: bad pooling geometry ${JSON.stringify(geo)}`);
    this.dims(b * h * w, c);
    const nx = b * h * w * c;
    const ny = b * oh * ow * c;
    const sx = this.check('x', x, nx);
    const sy = this.check(grad === undefined ? 'y' : 'dy', y, ny);
    if (grad === undefined) {
      (this.fns['maxPool2'] as Fn)(sx, sy, b, oh, ow, w * c * 4, c * 4, h * w * c * 4);
      return;
    }
    const sg = this.check('dx', grad.g, nx);
    if (2 * oh !== h || 2 * ow !== w) new Float32Array(this.memory.buffer, sg, nx).fill(0);
    (this.fns['maxPool2Grad'] as Fn)(sx, sy, sg, b, oh, ow, w * c * 4, c * 4, h * w * c * 4);
  }

  /** out = dy · step(x) over n floats (the gradient of relu). */
  reluGrad(n: number, dy: Region, x: Region, out: Region): void {
    this.dims(1, n);
    (this.fns['reluGrad'] as Fn)(this.check('dy', dy, n), this.check('x', x, n), this.check('out', out, n), 1, n);
  }

  /** y = relu(x + b) per channel (b a [C] region): tfjs' Add then Relu, one pass. */
  biasRelu(x: Region, y: Region, rows: number, C: number, b: Region): void {
    this.dims(rows, C);
    const n = rows * C;
    (this.fns['biasRelu'] as Fn)(this.check('x', x, n), this.check('y', y, n), rows, C, this.check('b', b, C));
  }

  /**
   * dz = dy · step(y) over `[rows, C]` (the gradient of relu from its output y) and the column sums
   * of dz in float64 (float32 partial sums of 16 rows); with y and dz null, the column sums of dy.
   * `scratch` holds 3C + 1 floats.
   */
  reluGradSums(dy: Region, y: Region | null, dz: Region | null, rows: number, C: number, scratch: Region): Float64Array {
    this.dims(rows, C);
    const n = rows * C;
    const a = this.check('scratch', scratch, 3 * C + 1);
    let s = a + 4 * C;
    if (s % 8 !== 0) s += 4;
    new Float32Array(this.memory.buffer, a, C).fill(0);
    new Float64Array(this.memory.buffer, s, C).fill(0);
    if (y === null || dz === null) (this.fns['columnSums'] as Fn)(this.check('dy', dy, n), rows, C, a, s);
    else (this.fns['reluGradSums'] as Fn)(this.check('dy', dy, n), this.check('y', y, n), this.check('dz', dz, n), rows, C, a, s);
    return new Float64Array(this.memory.buffer, s, C).slice();
  }

  /** One SGD update over n floats (see fused-kernels' sgdStep); buf/bufOut null without momentum. */
  sgd(n: number, p: Region, g: Region, buf: Region | null, pOut: Region, bufOut: Region | null, o: { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; gradScale: number }): void {
    this.dims(1, n);
    const mom = bufOut !== null;
    const first = mom && buf === null;
    const name = `sgd${mom ? 'M' : ''}${first ? 'F' : ''}${mom && o.nesterov ? 'N' : ''}`;
    const streams = [this.check('param', p, n), this.check('grad', g, n)];
    if (mom && !first) streams.push(this.check('buf', buf as Region, n));
    streams.push(this.check('param out', pOut, n));
    if (mom) streams.push(this.check('buf out', bufOut, n));
    (this.fns[name] as Fn)(...streams, 1, n, o.lr, o.momentum, 1 - o.dampening, o.weightDecay, o.gradScale);
  }

  /** One Adam/AdamW update over n floats (see fused-kernels' adamStep); m/v null on the first step. */
  adam(n: number, p: Region, g: Region, m: Region | null, v: Region | null, pOut: Region, mOut: Region, vOut: Region, o: { lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; decoupled: boolean; step: number; gradScale: number }): void {
    this.dims(1, n);
    const first = m === null || v === null;
    const streams = [this.check('param', p, n), this.check('grad', g, n)];
    if (!first) streams.push(this.check('m', m, n), this.check('v', v, n));
    streams.push(this.check('param out', pOut, n), this.check('m out', mOut, n), this.check('v out', vOut, n));
    const l2 = o.decoupled ? 0 : o.weightDecay;
    const shrink = o.decoupled ? 1 - o.lr * o.weightDecay : 1;
    const sb2 = Math.sqrt(1 - Math.pow(o.beta2, o.step));
    const rate = o.lr / (1 - Math.pow(o.beta1, o.step));
    (this.fns[first ? 'adamF' : 'adam'] as Fn)(...streams, 1, n, o.gradScale, l2, shrink, o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, rate, sb2, o.epsilon);
  }
}

/**
 * The SIMD kernels on a tfjs wasm backend's memory, or null when WebAssembly SIMD is unavailable,
 * the memory cannot be found (or is shared) or {@link setSimdEnabled} turned them off.
 *
 * @example
 * ```ts
 * const k = simdKernelsFor(tf.backend()); // null on cpu
 * ```
 */
export function simdKernelsFor(backend: unknown): SimdKernels | null {
  if (disabled) return null;
  const memory = memoryOf(backend);
  if (memory === null) return null;
  const known = byMemory.get(memory);
  if (known !== undefined) return known;
  let out: SimdKernels | null = null;
  try {
    const module = compiledModule();
    const api = webAssemblyApi();
    if (module !== null && api !== undefined) {
      const inst = new api.Instance(module, { env: { mem: memory } });
      const fns: Record<string, Fn> = {};
      for (const [k, f] of Object.entries(inst.exports)) if (typeof f === 'function') fns[k] = f as Fn;
      out = new SimdKernels(memory, fns);
    }
  } catch {
    out = null;
  }
  byMemory.set(memory, out);
  return out;
}

/** True when this runtime validates the SIMD module (the kernels can run on a wasm backend). */
export function simdAvailable(): boolean {
  return compiledModule() !== null;
}
