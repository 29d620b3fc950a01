/**
 * `pnpm bench` for @basis/connectivity: weight matching of two 4x512 MLPs (784-512x4-10) and of two
 * MiniMyrtle(32) CNNs, beside a numpy/scipy implementation of the same algorithm through the same
 * spec table (bench/numpy_ref.py) when python3 with numpy and scipy is present. Writes
 * bench-results/connectivity.json at the repository root. The numpy side is Debian's
 * /usr/bin/python3 (numpy on the system BLAS basis loads) when it has numpy and scipy, else the
 * python3 on PATH; both sides name their BLAS, core type and threads (engine as found; numpy's
 * default threads). BASIS_SKIP_PYTHON=1 skips numpy; BENCH_QUICK=1 small models (784-128x2-10,
 * MiniMyrtle(16)), best of 1.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, engineInfo, engineSummary, writeNpy } from '@basis/tensor';
import { inferSpec, initParams, miniMyrtle, mlp, toFloat64, type ModelGraph } from '@basis/zoo';
import { weightMatching } from '@basis/connectivity';
import { findPythons, peerSummary, probePeer, startBench, writeBenchResult } from '@basis/test-utils/bench';

const { header, quick } = startBench();
const REPS = quick ? 1 : 3;

// numpy and scipy both needed; the system python first (same BLAS as basis)
const candidate = findPythons().find((p) => {
  try {
    execFileSync(p.command, ['-c', 'import numpy, scipy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const py = candidate?.command ?? null;
const peer = candidate === undefined ? null : probePeer(candidate.command, candidate.label);
const rows: Array<Record<string, unknown>> = [];
const cases: Array<[string, ModelGraph]> = quick
  ? [
      ['mlp 784-128x2-10', mlp({ width: 128, depth: 2 })],
      ['minimyrtle(16)', miniMyrtle(16)],
    ]
  : [
      ['mlp 784-512x4-10', mlp({ width: 512, depth: 4 })],
      ['minimyrtle(32)', miniMyrtle(32)],
    ];
for (const [name, g] of cases) {
  const spec = inferSpec(g, { features: false });
  const A = toFloat64(initParams(g, createRng(1)));
  const B = toFloat64(initParams(g, createRng(2)));
  const time = (canonical: boolean): { seconds: number; sweeps: number; objective: number } => {
    let best = Infinity;
    let r = weightMatching(A, B, spec, { canonical });
    for (let k = 0; k < REPS; k++) {
      const t = performance.now();
      r = weightMatching(A, B, spec, { canonical });
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    return { seconds: best, sweeps: r.sweeps, objective: r.objective.at(-1) as number };
  };
  const perm = time(false);
  const grelu = time(true);
  let numpy: { seconds: number; sweeps: number; objective: number } | null = null;
  if (py !== null) {
    const dir = mkdtempSync(join(tmpdir(), 'basis-bench-'));
    try {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
      for (const [k, v] of Object.entries(A)) writeFileSync(join(dir, 'a', `${k}.npy`), writeNpy({ dtype: 'float64', shape: v.shape, data: v.data }));
      for (const [k, v] of Object.entries(B)) writeFileSync(join(dir, 'b', `${k}.npy`), writeNpy({ dtype: 'float64', shape: v.shape, data: v.data }));
      numpy = JSON.parse(execFileSync(py, [fileURLToPath(new URL('./numpy_ref.py', import.meta.url)), dir], { encoding: 'utf8' })) as typeof numpy;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rows.push({ model: name, basis: perm, basisModuloGReLU: grelu, numpy });
}

const path = writeBenchResult('connectivity', header, { engine: engineInfo(), numpy: peer, rows });
const fmt = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(3));
console.log(`weight matching (best of ${REPS}, seconds; sweeps)`);
console.log('model                 basis (perm)      basis (mod G_ReLU)   numpy/scipy       ratio');
for (const r of rows) {
  const b = r['basis'] as { seconds: number; sweeps: number };
  const g = r['basisModuloGReLU'] as { seconds: number; sweeps: number };
  const n = r['numpy'] as { seconds: number; sweeps: number } | null;
  console.log(
    `${String(r['model']).padEnd(22)}${fmt(b.seconds).padStart(7)} (${b.sweeps})      ${fmt(g.seconds).padStart(7)} (${g.sweeps})        ${n === null ? 'skipped (no python3 with numpy/scipy)' : `${fmt(n.seconds).padStart(7)} (${n.sweeps})       ${(b.seconds / n.seconds).toFixed(2)}x`}`,
  );
}
console.log(`basis: ${engineSummary()}; numpy: ${peer === null ? 'none' : peerSummary(peer)}`);
console.log(`wrote ${path}`);
