import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Matrix } from '../matrix.js';
import { createRng } from '../index.js';
import { linearSumAssignment } from './lsap.js';
import { lsapKernel, type LsapKernelResult } from './lsap-kernel.js';
import { LSAP_WASM_MIN_ROWS, lsapKernelWasm, lsapWasmInput, lsapWasmWanted, setLsapWasmMode } from './lsap-wasm.js';

/** The WebAssembly kernel on a row-major nr x nc cost matrix. */
function wasmKernel(cost: Float64Array, nr: number, nc: number): LsapKernelResult | null {
  const inp = lsapWasmInput(nr, nc);
  if (inp === null) throw new Error('the WebAssembly LSAP kernel is unavailable');
  for (let i = 0; i < nr; i++) inp.F.set(cost.subarray(i * nc, (i + 1) * nc), inp.off + i * inp.stride);
  // poison the padding: it must never be read as a cost
  for (let i = 0; i < nr; i++) inp.F.fill(-1e300, inp.off + i * inp.stride + nc, inp.off + (i + 1) * inp.stride);
  return lsapKernelWasm(inp);
}

/**
 * First index where two arrays differ in their bit patterns (so -0 against +0, or any rounding
 * difference, shows), or -1; and -2 for different lengths.
 */
function firstBitDifference(a: Float64Array | Int32Array, b: Float64Array | Int32Array): number {
  if (a.length !== b.length) return -2;
  const w = a.BYTES_PER_ELEMENT / 4;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length * w);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length * w);
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return Math.floor(k / w);
  return -1;
}

/** Both kernels give the same assignment and bit-identical potentials (or are both infeasible). */
function expectSameKernel(cost: Float64Array, nr: number, nc: number): LsapKernelResult | null {
  const js = lsapKernel(cost, nr, nc);
  const wa = wasmKernel(cost, nr, nc);
  if (js === null) {
    expect(wa).toBeNull();
    return null;
  }
  expect(wa).not.toBeNull();
  if (wa === null) return null;
  expect(firstBitDifference(wa.col4row, js.col4row), 'col4row').toBe(-1);
  expect(firstBitDifference(wa.row4col, js.row4col), 'row4col').toBe(-1);
  expect(firstBitDifference(wa.u, js.u), 'u').toBe(-1);
  expect(firstBitDifference(wa.v, js.v), 'v').toBe(-1);
  return js;
}

function uniform(nr: number, nc: number, seed: number, f: (x: number) => number = (x) => x): Float64Array {
  const g = createRng(seed);
  const a = new Float64Array(nr * nc);
  for (let k = 0; k < a.length; k++) a[k] = f(g.uniform());
  return a;
}

afterEach(() => setLsapWasmMode('auto'));

describe('WebAssembly LSAP kernel: bit-identical to the JavaScript kernel', () => {
  it('on random problems: real, tied, forbidden (+Infinity), infeasible, square and rectangular', () => {
    const entry = (kind: number): fc.Arbitrary<number> =>
      [
        fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: -2, max: 2 }),
        fc.constantFrom(0, -0, 1, 0.1, 0.2, 0.30000000000000004),
        fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 3 }, { arbitrary: fc.constant(Infinity), weight: 1 }),
        fc.oneof({ arbitrary: fc.double({ min: -1, max: 1, noNaN: true }), weight: 1 }, { arbitrary: fc.constant(Infinity), weight: 2 }),
      ][kind] as fc.Arbitrary<number>;
    const problem = fc
      .record({ nr: fc.integer({ min: 0, max: 13 }), extra: fc.integer({ min: 0, max: 9 }), square: fc.boolean(), kind: fc.integer({ min: 0, max: 4 }) })
      .chain(({ nr, extra, square, kind }) => {
        const nc = square ? nr : nr + extra;
        return fc.record({
          nr: fc.constant(nr),
          nc: fc.constant(nc),
          values: fc.array(entry(kind), { minLength: nr * nc, maxLength: nr * nc }),
        });
      });
    let infeasible = 0;
    let solved = 0;
    fc.assert(
      fc.property(problem, ({ nr, nc, values }) => {
        const r = expectSameKernel(Float64Array.from(values), nr, nc);
        if (r === null) infeasible++;
        else solved++;
      }),
      { numRuns: 1500, seed: 14014 },
    );
    expect(infeasible).toBeGreaterThan(20); // the generator does reach both outcomes
    expect(solved).toBeGreaterThan(500);
  });

  it('on larger problems: uniform, heavily tied, constant, widths not a multiple of 4, forbidden pairs', () => {
    const cases: [number, number, Float64Array][] = [
      [150, 150, uniform(150, 150, 1)],
      [97, 131, uniform(97, 131, 2)],
      [120, 120, uniform(120, 120, 3, (x) => Math.floor(x * 3))],
      [61, 203, uniform(61, 203, 4, (x) => Math.floor(x * 2))],
      [33, 33, new Float64Array(33 * 33).fill(7)],
      [40, 45, new Float64Array(40 * 45).fill(-0)],
      [90, 90, uniform(90, 90, 5, (x) => (x < 0.6 ? Infinity : x))],
      [70, 73, uniform(70, 73, 6, (x) => (x < 0.5 ? Infinity : Math.floor(x * 4)))],
      [64, 64, uniform(64, 64, 7, (x) => (x < 0.97 ? Infinity : x))], // likely infeasible
    ];
    for (const [nr, nc, cost] of cases) expectSameKernel(cost, nr, nc);
  });

  it('on a problem too large for the kept memory (a temporary WebAssembly memory)', () => {
    // 3 x 1.5M: 84 MB of cost rows and column blocks, above the 64 MB kept between calls
    const nr = 3;
    const nc = 1_500_001;
    const cost = new Float64Array(nr * nc);
    for (let k = 0; k < cost.length; k++) cost[k] = (k * 2654435761) % 1000003; // cheap, tie-rich
    const r = expectSameKernel(cost, nr, nc);
    expect(r).not.toBeNull();
    expectSameKernel(new Float64Array(4 * 4).fill(1), 4, 4); // and the kept memory still works after it
  });

  it('on a correlation-like maximisation (negated, many near-equal entries)', () => {
    const n = 200;
    const g = createRng(8);
    const X = new Float64Array(n * n);
    for (let k = 0; k < X.length; k++) X[k] = -Math.round(g.normal() * 64) / 64;
    expectSameKernel(X, n, n);
  });
});

describe('linearSumAssignment on the WebAssembly kernel', () => {
  it('returns exactly what the JavaScript kernel returns (wide, tall, min and max)', () => {
    const problem = fc.record({
      m: fc.integer({ min: 0, max: 11 }),
      n: fc.integer({ min: 0, max: 11 }),
      maximize: fc.boolean(),
      ints: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    fc.assert(
      fc.property(problem, ({ m, n, maximize, ints, seed }) => {
        const C = new Matrix(m, n, uniform(m, n, seed, ints ? (x) => Math.floor(x * 3) : (x) => x - 0.5));
        setLsapWasmMode('never');
        const js = linearSumAssignment(C, { maximize });
        setLsapWasmMode('always');
        const wa = linearSumAssignment(C, { maximize });
        expect(Array.from(wa.rowInd)).toEqual(Array.from(js.rowInd));
        expect(Array.from(wa.colInd)).toEqual(Array.from(js.colInd));
        expect(Array.from(wa.rowToCol)).toEqual(Array.from(js.rowToCol));
        expect(Array.from(wa.colToRow)).toEqual(Array.from(js.colToRow));
        expect(Object.is(wa.cost, js.cost)).toBe(true);
      }),
      { numRuns: 300, seed: 14015 },
    );
  });

  it('is chosen by size in the default mode', () => {
    expect(lsapWasmWanted(LSAP_WASM_MIN_ROWS)).toBe(true);
    if (LSAP_WASM_MIN_ROWS > 0) expect(lsapWasmWanted(LSAP_WASM_MIN_ROWS - 1)).toBe(false);
    setLsapWasmMode('never');
    expect(lsapWasmWanted(1 << 20)).toBe(false);
    setLsapWasmMode('always');
    expect(lsapWasmWanted(1)).toBe(true);
  });

  it('reports infeasible problems as INFEASIBLE, as the JavaScript kernel does', () => {
    setLsapWasmMode('always');
    const C = new Matrix(6, 9, uniform(6, 9, 9));
    for (let j = 1; j < 9; j++) C.set(0, j, Infinity); // row 0 can only take column 0
    expect(() => linearSumAssignment(C)).not.toThrow();
    for (let j = 1; j < 9; j++) C.set(1, j, Infinity); // and so can row 1
    expect(() => linearSumAssignment(C)).toThrow(expect.objectContaining({ code: 'INFEASIBLE' }));
    expect(() => linearSumAssignment(C.transpose())).toThrow(expect.objectContaining({ code: 'INFEASIBLE' }));
  });
});
