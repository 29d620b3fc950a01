// Small WebAssembly SIMD (f64x2) kernels — a matrix-multiply micro-kernel and a plane-rotation
// sequence kernel — assembled at load time from the instructions below (no binary blob, no build
// step), with JavaScript fallbacks when WebAssembly or its SIMD extension is unavailable. V8 pays a bounds check per typed-array
// access in JavaScript; the wasm kernel does not and processes two doubles per instruction,
// which makes it about 4-5x faster than the best JavaScript kernel.
//
// Determinism: IEEE-754 double arithmetic with separate multiply and add (no FMA), in an order
// fixed by the blocking constants below, so results do not depend on the machine or on timing.
import { ADD, AND, BLOCK, ELSE, END, EQZ, F64, F64_ADD, F64_MUL, I32, IF, LOOP, LT_U, MUL, SUB, V128, V_ZERO, br, brIf, get, i32c, name, section, set, simd, uleb, vec, type KeptInstance, type WasmApi, type WasmMemory, KEEP_BYTES, keptInstance, withMemory } from '../wasm-asm.js';

type KernelFn = (pa: number, pb: number, pc: number, kc: number, nj: number, ldc: number) => void;
type DotFn = (pX: number, pY: number, n: number) => number;
type AxpyFn = (pY: number, pX: number, n: number, alpha: number) => void;
type RotFn = (pY: number, nGroups: number, groupStride: number, pC: number, pS: number, pSeq: number, nSeq: number) => void;
type RowSqDotFn = (pA: number, rows: number, d: number, pV: number, pQ: number, pP: number) => void;
type ColSumSqFn = (pA: number, quads: number, d: number, pS: number, pQ: number) => void;
type RowPairDotFn = (pA: number, pB: number, rows: number, da: number, db: number, c: number, pO: number) => void;

// --- instructions beyond the shared assembler (../wasm-asm.ts) --------------------------------
const i32Load = (offset: number): number[] => [0x28, 2, ...uleb(offset)];
const vLoad = (offset: number): number[] => simd(0, 4, ...uleb(offset)); // v128.load align=16
const vStore = (offset: number): number[] => simd(11, 4, ...uleb(offset)); // v128.store
const splat64 = (offset: number): number[] => simd(10, 3, ...uleb(offset)); // v128.load64_splat
const F64X2_ADD = simd(240);
const F64X2_MUL = simd(242);
const F64X2_SUB = simd(241);
const lane = (i: number): number[] => simd(33, i); // f64x2.extract_lane
const f64Load = (offset: number): number[] => [0x2b, 3, ...uleb(offset)];
const f64Store = (offset: number): number[] => [0x39, 3, ...uleb(offset)];

/** Rows of A per micro-kernel call (columns per panel of B are fixed at 4 = two f64x2). */
const MR = 4;

/**
 * `gemm4(pa, pb, pc, kc, nj, ldc)`: for jp in 0..nj-1,
 * C[0:MR, 4jp:4jp+4] += Apanel (kc x MR, interleaved) · Bpanel_jp (kc x 4, interleaved).
 * Byte addresses; B panels are consecutive (kc * 32 bytes each); ldc is C's row stride in bytes.
 */
function kernelBody(): number[] {
  // params 0..5: pa, pb, pc, kc, nj, ldc; i32 locals 6 pA, 7 pB, 8 endA, 9 jp, 10 pC;
  // v128 locals: 11.. accumulators (2 per row), then b0, b1, a.
  const acc = Array.from({ length: 2 * MR }, (_, i) => 11 + i);
  const b0 = 11 + 2 * MR;
  const b1 = b0 + 1;
  const av = b0 + 2;
  const c: number[] = [];
  c.push(...i32c(0), ...set(9));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(9), ...get(4), ...LT_U, ...EQZ, ...brIf(1));
  for (const a of acc) c.push(...V_ZERO, ...set(a));
  c.push(...get(0), ...set(6));
  c.push(...get(1), ...get(9), ...get(3), ...MUL, ...i32c(32), ...MUL, ...ADD, ...set(7));
  c.push(...get(0), ...get(3), ...i32c(8 * MR), ...MUL, ...ADD, ...set(8));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(6), ...get(8), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(7), ...vLoad(0), ...set(b0), ...get(7), ...vLoad(16), ...set(b1));
  for (let r = 0; r < MR; r++) {
    c.push(...get(6), ...splat64(8 * r), ...set(av));
    c.push(...get(acc[2 * r] as number), ...get(av), ...get(b0), ...F64X2_MUL, ...F64X2_ADD, ...set(acc[2 * r] as number));
    c.push(...get(acc[2 * r + 1] as number), ...get(av), ...get(b1), ...F64X2_MUL, ...F64X2_ADD, ...set(acc[2 * r + 1] as number));
  }
  c.push(...get(6), ...i32c(8 * MR), ...ADD, ...set(6));
  c.push(...get(7), ...i32c(32), ...ADD, ...set(7));
  c.push(...br(0), ...END, ...END);
  c.push(...get(2), ...get(9), ...i32c(32), ...MUL, ...ADD, ...set(10));
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < 2; h++) {
      c.push(...get(10), ...get(10), ...vLoad(16 * h), ...get(acc[2 * r + h] as number), ...F64X2_ADD, ...vStore(16 * h));
    }
    c.push(...get(10), ...get(5), ...ADD, ...set(10));
  }
  c.push(...get(9), ...i32c(1), ...ADD, ...set(9));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(5), I32],
    [...uleb(2 * MR + 3), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}


/**
 * `rot(pY, nGroups, groupStride, pC, pS, pSeq, nSeq)`: applies chains of plane rotations to the
 * columns of a matrix stored in the "octet" layout (see RotationWorkspace): for each group of 8
 * rows and each sequence (kind, start, count) of i32 triples at pSeq, rotation t of the chain
 * uses c = f64[pC], s = f64[pS] (both advanced per rotation, reset per group).
 * Kind 0 (ascending) rotates columns (j, j+1) for j = start.., kind 1 (descending) columns
 * (i, i+1) for i = start+count-1 down to start, each as x_a' = c x_a + s x_b,
 * x_b' = c x_b - s x_a, carrying the value that the next rotation of the chain needs.
 */
function rotBody(): number[] {
  // params 0 pY, 1 nGroups, 2 groupStride, 3 pC, 4 pS, 5 pSeq, 6 nSeq
  // i32 locals 7 g, 8 gbase, 9 q, 10 seqp, 11 kind, 12 st, 13 cnt, 14 addr, 15 pc, 16 ps, 17 t, 18 prev
  // v128 locals 19..22 x0..x3, 23 y, 24 c, 25 s
  const X = [19, 20, 21, 22];
  const Y = 23;
  const C = 24;
  const S = 25;
  const c: number[] = [];
  const loadCS = (): number[] => [...get(15), ...splat64(0), ...set(C), ...get(16), ...splat64(0), ...set(S)];
  const advance = (): number[] => [
    ...get(15), ...i32c(8), ...ADD, ...set(15),
    ...get(16), ...i32c(8), ...ADD, ...set(16),
    ...get(17), ...i32c(1), ...SUB, ...set(17),
  ];
  const loadX = (): number[] => X.flatMap((x, u) => [...get(14), ...vLoad(16 * u), ...set(x)]);
  const storeX = (): number[] => X.flatMap((x, u) => [...get(14), ...get(x), ...vStore(16 * u)]);
  c.push(...i32c(0), ...set(7), ...get(0), ...set(8));
  c.push(...BLOCK, ...LOOP); // groups
  c.push(...get(7), ...get(1), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(3), ...set(15), ...get(4), ...set(16), ...get(5), ...set(10), ...i32c(0), ...set(9));
  c.push(...BLOCK, ...LOOP); // sequences
  c.push(...get(9), ...get(6), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(10), ...i32Load(0), ...set(11), ...get(10), ...i32Load(4), ...set(12), ...get(10), ...i32Load(8), ...set(13));
  c.push(...get(13), ...set(17));
  c.push(...get(11), ...EQZ, ...IF);
  {
    // ascending: addr = gbase + st * 64
    c.push(...get(8), ...get(12), ...i32c(64), ...MUL, ...ADD, ...set(14));
    c.push(...loadX());
    c.push(...BLOCK, ...LOOP);
    c.push(...get(17), ...EQZ, ...brIf(1));
    c.push(...loadCS());
    X.forEach((x, u) => {
      c.push(...get(14), ...vLoad(64 + 16 * u), ...set(Y));
      c.push(...get(14), ...get(C), ...get(x), ...F64X2_MUL, ...get(S), ...get(Y), ...F64X2_MUL, ...F64X2_ADD, ...vStore(16 * u));
      c.push(...get(C), ...get(Y), ...F64X2_MUL, ...get(S), ...get(x), ...F64X2_MUL, ...F64X2_SUB, ...set(x));
    });
    c.push(...get(14), ...i32c(64), ...ADD, ...set(14));
    c.push(...advance(), ...br(0), ...END, ...END);
    c.push(...storeX());
  }
  c.push(...ELSE);
  {
    // descending: addr = gbase + (st + cnt) * 64
    c.push(...get(8), ...get(12), ...get(13), ...ADD, ...i32c(64), ...MUL, ...ADD, ...set(14));
    c.push(...loadX());
    c.push(...BLOCK, ...LOOP);
    c.push(...get(17), ...EQZ, ...brIf(1));
    c.push(...loadCS());
    c.push(...get(14), ...i32c(64), ...SUB, ...set(18));
    X.forEach((x, u) => {
      c.push(...get(18), ...vLoad(16 * u), ...set(Y));
      c.push(...get(14), ...get(C), ...get(x), ...F64X2_MUL, ...get(S), ...get(Y), ...F64X2_MUL, ...F64X2_SUB, ...vStore(16 * u));
      c.push(...get(C), ...get(Y), ...F64X2_MUL, ...get(S), ...get(x), ...F64X2_MUL, ...F64X2_ADD, ...set(x));
    });
    c.push(...get(18), ...set(14));
    c.push(...advance(), ...br(0), ...END, ...END);
    c.push(...storeX());
  }
  c.push(...END); // if
  c.push(...get(10), ...i32c(12), ...ADD, ...set(10), ...get(9), ...i32c(1), ...ADD, ...set(9));
  c.push(...br(0), ...END, ...END);
  c.push(...get(7), ...i32c(1), ...ADD, ...set(7), ...get(8), ...get(2), ...ADD, ...set(8));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(12), I32],
    [...uleb(7), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/**
 * `dot(pX, pY, n) -> f64`: sum of x_t y_t over n doubles (byte addresses, any alignment), in a
 * fixed order: two f64x2 accumulators over blocks of 4, lanes summed, then the scalar tail.
 */
function dotBody(): number[] {
  // params 0 pX, 1 pY, 2 n; locals 3 end (i32), 4 s (f64), 5 acc0, 6 acc1 (v128)
  const c: number[] = [];
  c.push(...V_ZERO, ...set(5), ...V_ZERO, ...set(6));
  c.push(...get(0), ...get(2), ...i32c(-4), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(3));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(0), ...get(3), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(5), ...get(0), ...vLoad(0), ...get(1), ...vLoad(0), ...F64X2_MUL, ...F64X2_ADD, ...set(5));
  c.push(...get(6), ...get(0), ...vLoad(16), ...get(1), ...vLoad(16), ...F64X2_MUL, ...F64X2_ADD, ...set(6));
  c.push(...get(0), ...i32c(32), ...ADD, ...set(0), ...get(1), ...i32c(32), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  // s = (acc0[0] + acc0[1]) + (acc1[0] + acc1[1])
  c.push(...get(5), ...lane(0), ...get(5), ...lane(1), ...F64_ADD, ...get(6), ...lane(0), ...get(6), ...lane(1), ...F64_ADD, ...F64_ADD, ...set(4));
  // tail: end = pX + (n & 3) * 8
  c.push(...get(0), ...get(2), ...i32c(3), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(3));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(0), ...get(3), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(4), ...get(0), ...f64Load(0), ...get(1), ...f64Load(0), ...F64_MUL, ...F64_ADD, ...set(4));
  c.push(...get(0), ...i32c(8), ...ADD, ...set(0), ...get(1), ...i32c(8), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  c.push(...get(4));
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(1), F64],
    [...uleb(2), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/** `axpy(pY, pX, n, alpha)`: y_t += alpha x_t over n doubles (byte addresses, any alignment). */
function axpyBody(): number[] {
  // params 0 pY, 1 pX, 2 n, 3 alpha (f64); locals 4 end (i32), 5 va (v128)
  const c: number[] = [];
  c.push(...get(3), ...simd(20), ...set(5)); // f64x2.splat
  c.push(...get(0), ...get(2), ...i32c(-4), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(4));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(0), ...get(4), ...LT_U, ...EQZ, ...brIf(1));
  for (const off of [0, 16]) {
    c.push(...get(0), ...get(0), ...vLoad(off), ...get(5), ...get(1), ...vLoad(off), ...F64X2_MUL, ...F64X2_ADD, ...vStore(off));
  }
  c.push(...get(0), ...i32c(32), ...ADD, ...set(0), ...get(1), ...i32c(32), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  c.push(...get(0), ...get(2), ...i32c(3), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(4));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(0), ...get(4), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(0), ...get(0), ...f64Load(0), ...get(3), ...get(1), ...f64Load(0), ...F64_MUL, ...F64_ADD, ...f64Store(0));
  c.push(...get(0), ...i32c(8), ...ADD, ...set(0), ...get(1), ...i32c(8), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(1), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/**
 * `rowsqdot(pA, rows, d, pV, pQ, pP)`: for each of `rows` consecutive rows of d doubles from pA,
 * the sum of the squares of its entries (f64 to pQ + 8r) and its dot product with the d doubles at
 * pV (f64 to pP + 8r); byte addresses, any alignment. Fixed order per row: four f64x2 accumulators
 * each over blocks of 8 entries, summed as `(a0 + a1) + (a2 + a3)` and then lane 0 + lane 1, then
 * the scalar tail in order.
 */
function rowSqDotBody(): number[] {
  // params 0 pA, 1 rows, 2 d, 3 pV, 4 pQ, 5 pP; i32 locals 6 r, 7 end8, 8 end, 9 pv;
  // f64 locals 10 q, 11 p, 12 x; v128 locals 13..16 squares accumulators, 17..20 dot accumulators, 21 va
  const AQ = [13, 14, 15, 16];
  const AP = [17, 18, 19, 20];
  const VA = 21;
  const c: number[] = [];
  const sumLanes = (acc: number[], to: number): void => {
    c.push(...get(acc[0] as number), ...get(acc[1] as number), ...F64X2_ADD, ...get(acc[2] as number), ...get(acc[3] as number), ...F64X2_ADD, ...F64X2_ADD, ...set(VA));
    c.push(...get(VA), ...lane(0), ...get(VA), ...lane(1), ...F64_ADD, ...set(to));
  };
  c.push(...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP); // rows
  c.push(...get(6), ...get(1), ...LT_U, ...EQZ, ...brIf(1));
  for (const a of [...AQ, ...AP]) c.push(...V_ZERO, ...set(a));
  c.push(...get(3), ...set(9));
  c.push(...get(0), ...get(2), ...i32c(8), ...MUL, ...ADD, ...set(8)); // end = pA + 8d
  c.push(...get(0), ...get(2), ...i32c(-8), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(7)); // end8 = pA + 8 (d & ~7)
  c.push(...BLOCK, ...LOOP); // blocks of 8 entries
  c.push(...get(0), ...get(7), ...LT_U, ...EQZ, ...brIf(1));
  for (let j = 0; j < 4; j++) {
    const off = 16 * j;
    c.push(...get(0), ...vLoad(off), ...set(VA));
    c.push(...get(AQ[j] as number), ...get(VA), ...get(VA), ...F64X2_MUL, ...F64X2_ADD, ...set(AQ[j] as number));
    c.push(...get(AP[j] as number), ...get(VA), ...get(9), ...vLoad(off), ...F64X2_MUL, ...F64X2_ADD, ...set(AP[j] as number));
  }
  c.push(...get(0), ...i32c(64), ...ADD, ...set(0), ...get(9), ...i32c(64), ...ADD, ...set(9));
  c.push(...br(0), ...END, ...END);
  sumLanes(AQ, 10);
  sumLanes(AP, 11);
  c.push(...BLOCK, ...LOOP); // the tail, in order
  c.push(...get(0), ...get(8), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(0), ...f64Load(0), ...set(12));
  c.push(...get(10), ...get(12), ...get(12), ...F64_MUL, ...F64_ADD, ...set(10));
  c.push(...get(11), ...get(12), ...get(9), ...f64Load(0), ...F64_MUL, ...F64_ADD, ...set(11));
  c.push(...get(0), ...i32c(8), ...ADD, ...set(0), ...get(9), ...i32c(8), ...ADD, ...set(9));
  c.push(...br(0), ...END, ...END);
  c.push(...get(4), ...get(10), ...f64Store(0), ...get(5), ...get(11), ...f64Store(0));
  c.push(...get(4), ...i32c(8), ...ADD, ...set(4), ...get(5), ...i32c(8), ...ADD, ...set(5));
  c.push(...get(6), ...i32c(1), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(4), I32],
    [...uleb(3), F64],
    [...uleb(9), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/**
 * `colsumsq(pA, quads, d, pS, pQ)`: for each of `quads` groups of four consecutive rows of d doubles
 * from pA (in order), `s_j += (x0 + x1) + (x2 + x3)` and `q_j += (x0² + x1²) + (x2² + x3²)` for every
 * column j, s and q the d doubles at pS and pQ (byte addresses, any alignment). Two columns per
 * f64x2 step and the odd last column in scalar arithmetic: each column's additions happen in the
 * same order as in a scalar loop over the groups, so the sums are bit-identical to one.
 */
function colSumSqBody(): number[] {
  // params 0 pA, 1 quads, 2 d, 3 pS, 4 pQ; i32 locals 5 g, 6 o (byte offset of the column), 7 end2
  // (byte offset past the even columns), 8 rb (row bytes), 9 p (address of row 0 at the column);
  // f64 locals 10..13 x0..x3; v128 locals 14..17 v0..v3
  const V = [14, 15, 16, 17];
  const X = [10, 11, 12, 13];
  const c: number[] = [];
  c.push(...get(2), ...i32c(8), ...MUL, ...set(8)); // rb = 8d
  c.push(...get(2), ...i32c(-2), ...AND, ...i32c(8), ...MUL, ...set(7)); // end2 = 8 (d & ~1)
  c.push(...i32c(0), ...set(5));
  c.push(...BLOCK, ...LOOP); // groups of four rows
  c.push(...get(5), ...get(1), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...i32c(0), ...set(6));
  c.push(...BLOCK, ...LOOP); // two columns at a time
  c.push(...get(6), ...get(7), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(0), ...get(6), ...ADD, ...set(9));
  for (let r = 0; r < 4; r++) {
    c.push(...get(9), ...vLoad(0), ...set(V[r] as number));
    if (r < 3) c.push(...get(9), ...get(8), ...ADD, ...set(9));
  }
  // s += (v0 + v1) + (v2 + v3)
  c.push(...get(3), ...get(6), ...ADD, ...get(3), ...get(6), ...ADD, ...vLoad(0));
  c.push(...get(V[0] as number), ...get(V[1] as number), ...F64X2_ADD, ...get(V[2] as number), ...get(V[3] as number), ...F64X2_ADD, ...F64X2_ADD, ...F64X2_ADD, ...vStore(0));
  // q += (v0² + v1²) + (v2² + v3²)
  const sq = (v: number): number[] => [...get(v), ...get(v), ...F64X2_MUL];
  c.push(...get(4), ...get(6), ...ADD, ...get(4), ...get(6), ...ADD, ...vLoad(0));
  c.push(...sq(V[0] as number), ...sq(V[1] as number), ...F64X2_ADD, ...sq(V[2] as number), ...sq(V[3] as number), ...F64X2_ADD, ...F64X2_ADD, ...F64X2_ADD, ...vStore(0));
  c.push(...get(6), ...i32c(16), ...ADD, ...set(6));
  c.push(...br(0), ...END, ...END);
  // an odd last column (o = end2 = 8 (d - 1)), in scalar arithmetic
  c.push(...get(7), ...get(8), ...LT_U, ...IF);
  c.push(...get(0), ...get(7), ...ADD, ...set(9));
  for (let r = 0; r < 4; r++) {
    c.push(...get(9), ...f64Load(0), ...set(X[r] as number));
    if (r < 3) c.push(...get(9), ...get(8), ...ADD, ...set(9));
  }
  c.push(...get(3), ...get(7), ...ADD, ...get(3), ...get(7), ...ADD, ...f64Load(0));
  c.push(...get(X[0] as number), ...get(X[1] as number), ...F64_ADD, ...get(X[2] as number), ...get(X[3] as number), ...F64_ADD, ...F64_ADD, ...F64_ADD, ...f64Store(0));
  const fsq = (x: number): number[] => [...get(x), ...get(x), ...F64_MUL];
  c.push(...get(4), ...get(7), ...ADD, ...get(4), ...get(7), ...ADD, ...f64Load(0));
  c.push(...fsq(X[0] as number), ...fsq(X[1] as number), ...F64_ADD, ...fsq(X[2] as number), ...fsq(X[3] as number), ...F64_ADD, ...F64_ADD, ...F64_ADD, ...f64Store(0));
  c.push(...END);
  c.push(...get(0), ...get(8), ...i32c(4), ...MUL, ...ADD, ...set(0)); // next group: pA += 4 rb
  c.push(...get(5), ...i32c(1), ...ADD, ...set(5));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(5), I32],
    [...uleb(4), F64],
    [...uleb(4), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

/**
 * `rowpairdot(pA, pB, rows, da, db, c, pO)`: for each of `rows` row pairs (rows of da doubles from
 * pA, of db doubles from pB, c = min(da, db)), the dot product of the first c entries of both rows
 * and each row's sum of squares, as three f64 per row (dot, A's, B's) from pO; byte addresses, any
 * alignment. Fixed order per row: four f64x2 accumulators per sum over blocks of 8 common entries,
 * summed as `(a0 + a1) + (a2 + a3)` and then lane 0 + lane 1, then the common tail in order, then
 * A's and B's remaining entries in order.
 */
function rowPairDotBody(): number[] {
  // params 0 pA, 1 pB, 2 rows, 3 da, 4 db, 5 c, 6 pO; i32 locals 7 r, 8 end8, 9 endC, 10 endA, 11 endB;
  // f64 locals 12 dot, 13 qa, 14 qb, 15 x, 16 y; v128 locals 17..20 dot, 21..24 A's and 25..28 B's
  // squares accumulators, 29 va, 30 vb, 31 lanes
  const AD = [17, 18, 19, 20];
  const QA = [21, 22, 23, 24];
  const QB = [25, 26, 27, 28];
  const VA = 29;
  const VB = 30;
  const VS = 31;
  const c: number[] = [];
  const sumLanes = (acc: number[], to: number): void => {
    c.push(...get(acc[0] as number), ...get(acc[1] as number), ...F64X2_ADD, ...get(acc[2] as number), ...get(acc[3] as number), ...F64X2_ADD, ...F64X2_ADD, ...set(VS));
    c.push(...get(VS), ...lane(0), ...get(VS), ...lane(1), ...F64_ADD, ...set(to));
  };
  const step = (to: number, u: number[], v: number[]): number[] => [...get(to), ...u, ...v, ...F64_MUL, ...F64_ADD, ...set(to)];
  c.push(...i32c(0), ...set(7));
  c.push(...BLOCK, ...LOOP); // rows
  c.push(...get(7), ...get(2), ...LT_U, ...EQZ, ...brIf(1));
  for (const a of [...AD, ...QA, ...QB]) c.push(...V_ZERO, ...set(a));
  c.push(...get(0), ...get(5), ...i32c(-8), ...AND, ...i32c(8), ...MUL, ...ADD, ...set(8)); // end8 = pA + 8 (c & ~7)
  c.push(...get(0), ...get(5), ...i32c(8), ...MUL, ...ADD, ...set(9)); // endC = pA + 8c
  c.push(...get(0), ...get(3), ...i32c(8), ...MUL, ...ADD, ...set(10)); // endA = pA + 8da
  c.push(...get(1), ...get(4), ...i32c(8), ...MUL, ...ADD, ...set(11)); // endB = pB + 8db
  c.push(...BLOCK, ...LOOP); // blocks of 8 common entries
  c.push(...get(0), ...get(8), ...LT_U, ...EQZ, ...brIf(1));
  for (let j = 0; j < 4; j++) {
    const off = 16 * j;
    c.push(...get(0), ...vLoad(off), ...set(VA), ...get(1), ...vLoad(off), ...set(VB));
    c.push(...get(AD[j] as number), ...get(VA), ...get(VB), ...F64X2_MUL, ...F64X2_ADD, ...set(AD[j] as number));
    c.push(...get(QA[j] as number), ...get(VA), ...get(VA), ...F64X2_MUL, ...F64X2_ADD, ...set(QA[j] as number));
    c.push(...get(QB[j] as number), ...get(VB), ...get(VB), ...F64X2_MUL, ...F64X2_ADD, ...set(QB[j] as number));
  }
  c.push(...get(0), ...i32c(64), ...ADD, ...set(0), ...get(1), ...i32c(64), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  sumLanes(AD, 12);
  sumLanes(QA, 13);
  sumLanes(QB, 14);
  c.push(...BLOCK, ...LOOP); // the common tail, in order
  c.push(...get(0), ...get(9), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(0), ...f64Load(0), ...set(15), ...get(1), ...f64Load(0), ...set(16));
  c.push(...step(12, get(15), get(16)), ...step(13, get(15), get(15)), ...step(14, get(16), get(16)));
  c.push(...get(0), ...i32c(8), ...ADD, ...set(0), ...get(1), ...i32c(8), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  c.push(...BLOCK, ...LOOP); // A's remaining entries
  c.push(...get(0), ...get(10), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(0), ...f64Load(0), ...set(15), ...step(13, get(15), get(15)));
  c.push(...get(0), ...i32c(8), ...ADD, ...set(0));
  c.push(...br(0), ...END, ...END);
  c.push(...BLOCK, ...LOOP); // B's remaining entries
  c.push(...get(1), ...get(11), ...LT_U, ...EQZ, ...brIf(1));
  c.push(...get(1), ...f64Load(0), ...set(16), ...step(14, get(16), get(16)));
  c.push(...get(1), ...i32c(8), ...ADD, ...set(1));
  c.push(...br(0), ...END, ...END);
  c.push(...get(6), ...get(12), ...f64Store(0), ...get(6), ...get(13), ...f64Store(8), ...get(6), ...get(14), ...f64Store(16));
  c.push(...get(6), ...i32c(24), ...ADD, ...set(6));
  c.push(...get(7), ...i32c(1), ...ADD, ...set(7));
  c.push(...br(0), ...END, ...END);
  const locals = vec([
    [...uleb(5), I32],
    [...uleb(5), F64],
    [...uleb(15), V128],
  ]);
  const body = [...locals, ...c, ...END];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const params6 = vec([[I32], [I32], [I32], [I32], [I32], [I32]]);
  const params7 = vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(
      1,
      vec([
        [0x60, ...params6, ...vec([])],
        [0x60, ...params7, ...vec([])],
        [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[F64]])],
        [0x60, ...vec([[I32], [I32], [I32], [F64]]), ...vec([])],
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])],
      ]),
    ),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0], [1], [2], [3], [0], [4], [1]])),
    ...section(
      7,
      vec([
        [...name('gemm4'), 0x00, 0],
        [...name('rot'), 0x00, 1],
        [...name('dot'), 0x00, 2],
        [...name('axpy'), 0x00, 3],
        [...name('rowsqdot'), 0x00, 4],
        [...name('colsumsq'), 0x00, 5],
        [...name('rowpairdot'), 0x00, 6],
      ]),
    ),
    ...section(10, vec([kernelBody(), rotBody(), dotBody(), axpyBody(), rowSqDotBody(), colSumSqBody(), rowPairDotBody()])),
  ]);
}

let state: KeptInstance<KernelFn> | null | undefined;
let disabled = false;

/**
 * Test hook: `false` forces the JavaScript kernels (to compare both paths), `true` restores
 * the default. Not part of the public API.
 */
export function setWasmEnabled(on: boolean): void {
  disabled = !on;
}

function instantiate(api: WasmApi, module: object, memory: WasmMemory): KernelFn | null {
  const instance = new api.Instance(module, { env: { mem: memory } });
  const kernel = instance.exports['gemm4'];
  return typeof kernel === 'function' ? (kernel as KernelFn) : null;
}

function instantiateRot(api: WasmApi, module: object, memory: WasmMemory): RotFn | null {
  const instance = new api.Instance(module, { env: { mem: memory } });
  const fn = instance.exports['rot'];
  return typeof fn === 'function' ? (fn as RotFn) : null;
}

function wasmState(): KeptInstance<KernelFn> | null {
  if (disabled) return null;
  // null: no WebAssembly SIMD here, the JavaScript kernels are used
  if (state === undefined) state = keptInstance(moduleBytes, instantiate);
  return state;
}

/** The GEMM kernel on a memory of at least `bytes` bytes (null: fall back to JavaScript). */
function kernelWithMemory(bytes: number): { memory: WasmMemory; kernels: KernelFn } | null {
  const st = wasmState();
  return st === null ? null : withMemory(st, bytes, instantiate);
}

/** True when the WebAssembly SIMD kernel is in use (false: JavaScript fallback). */
export function wasmGemmAvailable(): boolean {
  return wasmState() !== null;
}

const KC = 256; // depth of a packed block (A panel: 4 x 256 doubles = 8 KiB, in L1)
const NC = 256; // columns of a packed B block (256 x 256 doubles = 512 KiB, in L2)

/**
 * Operands of a strided matrix product `C (+)= op(A) · op(B)` (row-major storage with row
 * strides): op(A) is m x k — A[aOff + i*lda + p], or with `transA` A[aOff + p*lda + i];
 * op(B) is k x n — B[bOff + p*ldb + j], or with `transB` B[bOff + j*ldb + p]; C[cOff + i*ldc + j].
 */
export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  A: Float64Array;
  aOff: number;
  lda: number;
  transA: boolean;
  B: Float64Array;
  bOff: number;
  ldb: number;
  transB: boolean;
  C: Float64Array;
  cOff: number;
  ldc: number;
  /** Add to C instead of overwriting it. */
  accumulate: boolean;
  /** Square output: only tiles touching the upper triangle are computed (others left as is / 0). */
  upperOnly: boolean;
}

/**
 * The product with the WebAssembly kernel: packed panels (A: MR rows x KC, B: KC x 4 columns),
 * blocked over k (KC) and n (NC). Summation order: for each output entry, C_in + (sum over the
 * first KC products, in order) + (sum over the next KC) + ... — the same as the JavaScript
 * kernel. Returns false (C untouched) when WebAssembly is unavailable.
 */
export function wasmGemm(g: GemmArgs): boolean {
  const { m, n, k, A, aOff, lda, transA, B, bOff, ldb, transB, C, cOff, ldc, accumulate, upperOnly } = g;
  const mp = Math.ceil(m / MR) * MR;
  const np = Math.ceil(n / 4) * 4;
  const kcMax = Math.min(KC, k);
  const ncMax = Math.min(NC, np);
  const aPack = 0;
  const bPack = aPack + mp * kcMax;
  const cBuf = bPack + kcMax * ncMax;
  const total = (cBuf + mp * np) * 8;
  if (total > 2 ** 31) return false; // keep i32 byte addresses well inside the signed range
  const st = kernelWithMemory(total);
  if (st === null) return false;
  const F = new Float64Array(st.memory.buffer);
  if (accumulate) {
    for (let i = 0; i < m; i++) F.set(C.subarray(cOff + i * ldc, cOff + i * ldc + n), cBuf + i * np);
    for (let i = 0; i < m; i++) F.fill(0, cBuf + i * np + n, cBuf + (i + 1) * np);
    F.fill(0, cBuf + m * np, cBuf + mp * np);
  } else {
    F.fill(0, cBuf, cBuf + mp * np);
  }
  const kernel = st.kernels;
  const panels = mp / MR;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    // Pack op(A)[:, k0:k0+kc] into panels of MR rows, interleaved by k (rows >= m are 0).
    if (transA) {
      for (let p = 0; p < kc; p++) {
        const row = aOff + (k0 + p) * lda;
        for (let i = 0; i < mp; i++) {
          F[aPack + (i >> 2) * kc * MR + p * MR + (i & 3)] = i < m ? (A[row + i] as number) : 0;
        }
      }
    } else {
      for (let i = 0; i < mp; i++) {
        const dst = aPack + (i >> 2) * kc * MR + (i & 3);
        if (i >= m) {
          for (let p = 0; p < kc; p++) F[dst + p * MR] = 0;
          continue;
        }
        const src = aOff + i * lda + k0;
        for (let p = 0; p < kc; p++) F[dst + p * MR] = A[src + p] as number;
      }
    }
    for (let j0 = 0; j0 < np; j0 += NC) {
      const nc = Math.min(NC, np - j0);
      const nPanels = nc / 4;
      // Pack op(B)[k0:k0+kc, j0:j0+nc] into panels of 4 columns, interleaved by k.
      if (transB) {
        for (let jj = 0; jj < nc; jj++) {
          const j = j0 + jj;
          const dst = bPack + (jj >> 2) * kc * 4 + (jj & 3);
          if (j >= n) {
            for (let p = 0; p < kc; p++) F[dst + p * 4] = 0;
            continue;
          }
          const src = bOff + j * ldb + k0;
          for (let p = 0; p < kc; p++) F[dst + p * 4] = B[src + p] as number;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const row = bOff + (k0 + p) * ldb;
          for (let jj = 0; jj < nc; jj++) {
            const j = j0 + jj;
            F[bPack + (jj >> 2) * kc * 4 + p * 4 + (jj & 3)] = j < n ? (B[row + j] as number) : 0;
          }
        }
      }
      for (let ip = 0; ip < panels; ip++) {
        let jp0 = 0;
        if (upperOnly) {
          // First tile of this row panel that touches the upper triangle.
          jp0 = Math.max(0, Math.floor((ip * MR) / 4) - j0 / 4);
          if (jp0 >= nPanels) continue;
        }
        kernel(
          (aPack + ip * kc * MR) * 8,
          (bPack + jp0 * kc * 4) * 8,
          (cBuf + ip * MR * np + j0 + jp0 * 4) * 8,
          kc,
          nPanels - jp0,
          np * 8,
        );
      }
    }
  }
  for (let i = 0; i < m; i++) C.set(F.subarray(cBuf + i * np, cBuf + i * np + n), cOff + i * ldc);
  return true;
}

/**
 * A copy of a rows x cols row-major matrix inside WebAssembly memory, in the "octet" layout:
 * rows are grouped by 8 (zero-padded), and for group g and column j the 8 entries are stored as
 * four f64x2 lanes pairs [(r0, r1), (r2, r3), (r4, r5), (r6, r7)] — so one rotation of two columns
 * updates 8 rows with 4 SIMD loads/stores per column. Chains of rotations recorded by the caller
 * are applied with {@link RotationWorkspace.apply}; {@link RotationWorkspace.copyBack} writes
 * the result to the original array.
 */
export class RotationWorkspace {
  private readonly memory: WasmMemory;
  private readonly fn: RotFn;
  private readonly rows: number;
  private readonly cols: number;
  private readonly groups: number;
  private readonly pC: number;
  private readonly pS: number;
  private readonly pSeq: number;
  private readonly cap: number;
  private readonly seqCap: number;

  private constructor(memory: WasmMemory, fn: RotFn, rows: number, cols: number, cap: number, seqCap: number) {
    this.memory = memory;
    this.fn = fn;
    this.rows = rows;
    this.cols = cols;
    this.groups = Math.ceil(rows / 8);
    this.cap = cap;
    this.seqCap = seqCap;
    this.pC = this.groups * cols * 64;
    this.pS = this.pC + cap * 8;
    this.pSeq = this.pS + cap * 8;
  }

  /** A workspace holding a copy of X, or null when WebAssembly is unavailable or memory is short. */
  static create(X: Float64Array, rows: number, cols: number, cap: number, seqCap: number): RotationWorkspace | null {
    const st = wasmState();
    if (st === null) return null;
    const bytes = Math.ceil(rows / 8) * cols * 64 + cap * 16 + seqCap * 12;
    if (bytes > 2 ** 31) return null;
    try {
      const memory = new st.api.Memory({ initial: Math.ceil(bytes / 65536) });
      const fn = instantiateRot(st.api, st.module, memory);
      if (fn === null) return null;
      const ws = new RotationWorkspace(memory, fn, rows, cols, cap, seqCap);
      const F = new Float64Array(memory.buffer);
      for (let i = 0; i < rows; i++) {
        const base = (i >> 3) * cols * 8 + ((i & 7) >> 1) * 2 + (i & 1);
        const src = i * cols;
        for (let j = 0; j < cols; j++) F[base + j * 8] = X[src + j] as number;
      }
      return ws;
    } catch {
      return null;
    }
  }

  /**
   * Applies `nSeq` chain sequences (kind 0 ascending / 1 descending, start, count) whose
   * rotations are c[r0 ..], s[r0 ..] in order.
   */
  apply(kind: Int32Array, start: Int32Array, count: Int32Array, q0: number, q1: number, c: Float64Array, s: Float64Array, r0: number, nRot: number): void {
    if (q1 <= q0) return;
    if (nRot > this.cap || q1 - q0 > this.seqCap) throw new Error('RotationWorkspace: batch exceeds capacity');
    const F = new Float64Array(this.memory.buffer);
    F.set(c.subarray(r0, r0 + nRot), this.pC / 8);
    F.set(s.subarray(r0, r0 + nRot), this.pS / 8);
    const I = new Int32Array(this.memory.buffer);
    let p = this.pSeq / 4;
    for (let q = q0; q < q1; q++) {
      I[p++] = kind[q] as number;
      I[p++] = start[q] as number;
      I[p++] = count[q] as number;
    }
    this.fn(0, this.groups, this.cols * 64, this.pC, this.pS, this.pSeq, q1 - q0);
  }

  /** One rotation of columns (a, b): x_a' = c x_a + s x_b, x_b' = c x_b - s x_a, on every row. */
  pair(a: number, b: number, c: number, s: number): void {
    const F = new Float64Array(this.memory.buffer);
    const cols = this.cols;
    for (let i = 0; i < this.rows; i++) {
      const base = (i >> 3) * cols * 8 + ((i & 7) >> 1) * 2 + (i & 1);
      const ia = base + a * 8;
      const ib = base + b * 8;
      const xa = F[ia] as number;
      const xb = F[ib] as number;
      F[ia] = c * xa + s * xb;
      F[ib] = c * xb - s * xa;
    }
  }

  /** Writes the workspace back into X (rows x cols, row-major). */
  copyBack(X: Float64Array): void {
    const F = new Float64Array(this.memory.buffer);
    const cols = this.cols;
    for (let i = 0; i < this.rows; i++) {
      const base = (i >> 3) * cols * 8 + ((i & 7) >> 1) * 2 + (i & 1);
      const dst = i * cols;
      for (let j = 0; j < cols; j++) X[dst + j] = F[base + j * 8] as number;
    }
  }
}

/**
 * A block of WebAssembly memory with `dot` and `axpy` kernels addressed by double offsets into
 * its view `F` (the view stays valid: the memory never grows). Used by the Householder
 * reductions, which keep their working matrix in `F` for the whole factorisation.
 */
export class Blas2Workspace {
  readonly F: Float64Array;
  private readonly dotFn: DotFn;
  private readonly axpyFn: AxpyFn;

  private constructor(F: Float64Array, dotFn: DotFn, axpyFn: AxpyFn) {
    this.F = F;
    this.dotFn = dotFn;
    this.axpyFn = axpyFn;
  }

  /** A workspace of `doubles` doubles (zeroed), or null when WebAssembly is unavailable. */
  static create(doubles: number): Blas2Workspace | null {
    const st = wasmState();
    if (st === null) return null;
    const bytes = doubles * 8;
    if (bytes > 2 ** 31) return null;
    try {
      const memory = new st.api.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
      const instance = new st.api.Instance(st.module, { env: { mem: memory } });
      const dotFn = instance.exports['dot'];
      const axpyFn = instance.exports['axpy'];
      if (typeof dotFn !== 'function' || typeof axpyFn !== 'function') return null;
      return new Blas2Workspace(new Float64Array(memory.buffer, 0, doubles), dotFn as DotFn, axpyFn as AxpyFn);
    } catch {
      return null;
    }
  }

  /** sum_t F[x + t] F[y + t], t < n. */
  dot(x: number, y: number, n: number): number {
    return n > 0 ? this.dotFn(x * 8, y * 8, n) : 0;
  }

  /** F[y + t] += alpha F[x + t], t < n. */
  axpy(y: number, x: number, n: number, alpha: number): void {
    if (n > 0 && alpha !== 0) this.axpyFn(y * 8, x * 8, n, alpha);
  }
}

/** The row kernels' exports, each instantiated once on the kept memory (null: not available). */
const rowKernels = new Map<string, unknown>();

/**
 * The export `name` of the kernels module, instantiated once on the kept memory, and that memory's
 * doubles once it holds at least `bytes` bytes (null when WebAssembly is unavailable, `bytes`
 * exceeds the kept size or the export is missing).
 */
function rowKernel<F>(name: string, bytes: number): { fn: F; F: Float64Array } | null {
  const st = wasmState();
  if (st === null || bytes > KEEP_BYTES || withMemory(st, bytes, instantiate) === null) return null;
  let fn = rowKernels.get(name);
  if (fn === undefined) {
    try {
      const f = new st.api.Instance(st.module, { env: { mem: st.memory } }).exports[name];
      fn = typeof f === 'function' ? f : null;
    } catch {
      fn = null;
    }
    rowKernels.set(name, fn);
  }
  return fn === null ? null : { fn: fn as F, F: new Float64Array(st.memory.buffer) }; // after any growth
}

/** k rounded up to even: an area starting at an even double offset is 16-byte aligned (the row kernels' v128 loads). */
const even = (k: number): number => k + (k & 1);

/** Doubles of a block of rows that {@link wasmRowSquaresDots} copies into WebAssembly memory per call (512 KiB: in L2). */
const ROW_BLOCK_DOUBLES = 65536;

/**
 * Row sums of squares and row dot products with v of the row-major n x d array `a` in one read
 * (the `rowsqdot` kernel on blocks of rows copied into the kept memory), written to `squares` and
 * `dots`. Returns false (outputs untouched) when WebAssembly is unavailable or a row does not fit.
 */
export function wasmRowSquaresDots(a: Float64Array, n: number, d: number, v: Float64Array, squares: Float64Array, dots: Float64Array): boolean {
  if (n === 0 || d === 0) return false;
  const rows = Math.max(1, Math.min(n, Math.floor(ROW_BLOCK_DOUBLES / d)));
  const qOff = even(d);
  const pOff = qOff + even(rows);
  const aOff = pOff + even(rows);
  const k = rowKernel<RowSqDotFn>('rowsqdot', (aOff + rows * d) * 8);
  if (k === null) return false;
  const { fn: rowSqDot, F } = k;
  F.set(v.subarray(0, d), 0);
  for (let r0 = 0; r0 < n; r0 += rows) {
    const m = Math.min(rows, n - r0);
    F.set(a.subarray(r0 * d, (r0 + m) * d), aOff);
    rowSqDot(aOff * 8, m, d, 0, qOff * 8, pOff * 8);
    squares.set(F.subarray(qOff, qOff + m), r0);
    dots.set(F.subarray(pOff, pOff + m), r0);
  }
  return true;
}

/**
 * Adds the column sums and sums of squares of the first `4 quads` rows of the row-major n x d array
 * `a` to `sums` and `squares`, four rows at a time in the order of a scalar loop over the groups
 * (the `colsumsq` kernel on blocks of whole groups copied into the kept memory; bit-identical to
 * that loop). Returns false (outputs untouched) when WebAssembly is unavailable or a group of four
 * rows does not fit.
 */
export function wasmColumnSumsSquares(a: Float64Array, quads: number, d: number, sums: Float64Array, squares: Float64Array): boolean {
  if (quads === 0 || d === 0) return false;
  const groups = Math.max(1, Math.min(quads, Math.floor(ROW_BLOCK_DOUBLES / (4 * d))));
  const qOff = even(d);
  const aOff = qOff + even(d);
  const k = rowKernel<ColSumSqFn>('colsumsq', (aOff + 4 * groups * d) * 8);
  if (k === null) return false;
  const { fn: colSumSq, F } = k;
  F.set(sums.subarray(0, d), 0);
  F.set(squares.subarray(0, d), qOff);
  for (let g0 = 0; g0 < quads; g0 += groups) {
    const m = Math.min(groups, quads - g0);
    F.set(a.subarray(4 * g0 * d, 4 * (g0 + m) * d), aOff);
    colSumSq(aOff * 8, m, d, 0, qOff * 8);
  }
  sums.set(F.subarray(0, d));
  squares.set(F.subarray(qOff, qOff + d));
  return true;
}

/**
 * For the row-major n x da array `a` and n x db array `b`: each row pair's dot product over their
 * first min(da, db) entries and each row's sum of squares, in one read of both (the `rowpairdot`
 * kernel on blocks of rows copied into the kept memory), written to `dots`, `squaresA` and
 * `squaresB`. Returns false (outputs untouched) when WebAssembly is unavailable or a row pair does not fit.
 */
export function wasmRowPairDots(a: Float64Array, da: number, b: Float64Array, db: number, n: number, dots: Float64Array, squaresA: Float64Array, squaresB: Float64Array): boolean {
  if (n === 0 || da + db === 0) return false;
  const rows = Math.max(1, Math.min(n, Math.floor(ROW_BLOCK_DOUBLES / (da + db))));
  const aOff = even(3 * rows);
  const bOff = aOff + even(rows * da);
  const k = rowKernel<RowPairDotFn>('rowpairdot', (bOff + rows * db) * 8);
  if (k === null) return false;
  const { fn: rowPairDot, F } = k;
  for (let r0 = 0; r0 < n; r0 += rows) {
    const m = Math.min(rows, n - r0);
    F.set(a.subarray(r0 * da, (r0 + m) * da), aOff);
    F.set(b.subarray(r0 * db, (r0 + m) * db), bOff);
    rowPairDot(aOff * 8, bOff * 8, m, da, db, Math.min(da, db), 0);
    for (let r = 0; r < m; r++) {
      dots[r0 + r] = F[3 * r] as number;
      squaresA[r0 + r] = F[3 * r + 1] as number;
      squaresB[r0 + r] = F[3 * r + 2] as number;
    }
  }
  return true;
}
