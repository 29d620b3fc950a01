#!/usr/bin/env node
// The ceiling of float64 WebAssembly SIMD on this core: a register-only loop of independent
// f64x2 multiply-adds (no memory traffic), as a reference for the GEMM micro-kernel (which reaches
// 15-18 GFLOP/s) and for comparisons with native BLAS. Usage: node tooling/scripts/wasm-peak.mjs [accumulators]
const uleb = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
/* global WebAssembly */
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const K = Number(process.argv[2] ?? 12);
// func (param i32 iters) (result f64); locals: K accumulators v128, a v128, b v128
const body = [];
const A = 1 + K, B = 2 + K;
body.push(0x44, ...new Uint8Array(new Float64Array([1.0000001]).buffer), 0xfd, 0x14, 0x21, ...uleb(A)); // a = splat
body.push(0x44, ...new Uint8Array(new Float64Array([0.9999999]).buffer), 0xfd, 0x14, 0x21, ...uleb(B));
body.push(0x03, 0x40); // loop
for (let i = 0; i < K; i++) {
  body.push(0x20, ...uleb(1 + i), 0x20, ...uleb(A), 0x20, ...uleb(B), 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01, 0x21, ...uleb(1 + i));
}
body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0); // iters = iters-1; br_if 0 (iters!=0)
body.push(0x0b); // end loop
body.push(0x20, 1, 0xfd, 0x21, 0); // extract lane 0 of acc0
for (let i = 1; i < K; i++) body.push(0x20, ...uleb(1 + i), 0xfd, 0x21, 0, 0xa0);
body.push(0x0b);
const locals = vec([[...uleb(K + 2), 0x7b]]);
const func = [...locals, ...body];
const bytes = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, vec([[0x60, ...vec([[0x7f]]), ...vec([[0x7c]])]])),
  ...section(3, vec([[0]])),
  ...section(7, vec([[...vec([...'f'].map((c) => [c.charCodeAt(0)])), 0x00, 0]])),
  ...section(10, vec([[...uleb(func.length), ...func]]))];
const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {});
const f = inst.exports.f;
f(1000000);
const iters = 200_000_000 / K;
const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
const r = f(iters);
const wall = Number(process.hrtime.bigint() - t0) / 1e9; const cpu = (process.cpuUsage(c0).user) / 1e6;
const flops = iters * K * 4; // each acc: 2 lanes x (mul + add)
console.log(`K=${K} result=${r.toExponential(3)} wall ${wall.toFixed(3)} s cpu ${cpu.toFixed(3)} s -> ${(flops / cpu / 1e9).toFixed(1)} GFLOP/s per CPU-second`);
