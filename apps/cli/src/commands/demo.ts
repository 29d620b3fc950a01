import { resolve } from 'node:path';
import { selectBackend } from '@basis/tensor/backend';
import { threadBudget } from '@basis/tensor';
import type { CommandContext } from '../context.js';
import { CLI_VERSION } from '../version.js';
import { formatTable } from '../table.js';

/** Options of `basis demo`. */
export interface DemoCommandOptions {
  out: string;
  quick: boolean;
  width?: number;
  epochs?: number;
}

/** `basis demo`: trains two MNIST MLPs, audits them and writes the HTML report. */
export async function runDemoCommand(ctx: CommandContext, raw: DemoCommandOptions): Promise<void> {
  const { width, epochs } = raw;
  const backend = await selectBackend(ctx.options.backend);
  const { runDemo } = await import('@basis/experiments/node');
  const t0 = performance.now();
  const out = resolve(raw.out);
  ctx.info(`basis demo → ${out} (backend ${backend.name}${raw.quick ? ', quick profile' : ''})`);
  const r = await runDemo({
    out,
    quick: raw.quick,
    backend: ctx.options.backend,
    ...(width === undefined ? {} : { width }),
    ...(epochs === undefined ? {} : { epochs }),
    seeds: [ctx.options.seed, ctx.options.seed + 1],
    onProgress: (stage, detail) => ctx.info(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${stage}: ${detail}`),
    environment: { basis: CLI_VERSION, node: process.versions.node, backend: `${backend.name} (${backend.package}@${backend.version})`, threads: threadBudget() },
  });
  const c = r.connectivity.curves;
  const summary = {
    report: `${out}/report.html`,
    seconds: r.seconds,
    testAccuracy: r.training.map((t) => t.testAccuracy),
    symmetry: { worstOutputError: r.symmetry.worstOutputError, worstFeatureError: r.symmetry.worstFeatureError },
    lossBarrier: { naive: c.naive.barrier.loss.maxMinusLinear, weightMatching: c.weightMatching.barrier.loss.maxMinusLinear, activationMatching: c.activationMatching.barrier.loss.maxMinusLinear },
    errorBarrier: { naive: c.naive.barrier.error.maxMinusLinear, weightMatching: c.weightMatching.barrier.error.maxMinusLinear, activationMatching: c.activationMatching.barrier.error.maxMinusLinear },
    files: r.files.length,
  };
  ctx.result(summary, () => {
    const layers = r.audit.diagonalLayers;
    const last = layers.length - 1;
    const rows: (string | number)[][] = [
      ['result', 'value'],
      ['test accuracy (seeds)', r.training.map((t) => `${(100 * t.testAccuracy).toFixed(2)}%`).join(', ')],
      ['symmetry spec verified', `outputs ${r.symmetry.worstOutputError.toExponential(1)}, features ${r.symmetry.worstFeatureError.toExponential(1)} (float32)`],
      [`cka.linear at ${layers[last]}`, String(r.audit.diagonal['cka.linear']?.[last]?.toFixed(4))],
      [`grelu.procrustes at ${layers[last]}`, String(r.audit.diagonal['grelu.procrustes']?.[last]?.toFixed(4))],
      ['loss barrier: naive', summary.lossBarrier.naive.toFixed(4)],
      ['loss barrier: weight matching', summary.lossBarrier.weightMatching.toFixed(4)],
      ['loss barrier: activation matching', summary.lossBarrier.activationMatching.toFixed(4)],
      ['error barrier: naive → matched', `${(100 * summary.errorBarrier.naive).toFixed(2)} → ${(100 * summary.errorBarrier.weightMatching).toFixed(2)} points`],
      ['time', `${r.seconds.toFixed(1)} s`],
      ['report', summary.report],
    ];
    return formatTable(rows);
  });
}
