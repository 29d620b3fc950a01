// Shared by the CLI tests (excluded from the build): run the real built binary.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Path of the `basis` binary. */
export const BIN = fileURLToPath(new URL('../bin/basis.js', import.meta.url));

/** A `basis reproduce` config file for a tiny quick-profile E000-1 (2 seeds, widths 8 and 16, 600 MNIST training rows, 1 epoch). */
export const TINY_E000_1 = `experiment: E000-1
profile: quick
config:
  data: { dataset: mnist, trainSize: 600, testSize: 200 }
  train: { epochs: 1, batchSize: 64, optimizer: { kind: adam, lr: 0.001 } }
  seeds: 2
  inputs: 200
  widths: [8, 16]
`;

/** Outcome of one run of the binary. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `basis ...args` and resolves to its exit code and output (never rejects on a non-zero exit). */
export async function basis(...args: string[]): Promise<Outcome> {
  return basisWithEnv({}, ...args);
}

/** {@link basis} with extra environment variables (a value of undefined removes the variable). */
export async function basisWithEnv(env: Record<string, string | undefined>, ...args: string[]): Promise<Outcome> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 240_000, env: merged });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Outcome of one {@link raceTrain} trial: the two processes and what was wrong with the run left behind (empty when nothing). */
export interface RaceTrial {
  variant: string;
  delayMs: number;
  codes: [number, number];
  /** The loser's error line (or 'both succeeded' when they ran one after the other with compatible configs). */
  loser: string;
  problems: string[];
}

const RACE_BASE = ['--arch', 'mlp', '--depth', '1', '--dataset', 'mnist', '--train-size', '600', '--test-size', '200', '--batch-size', '32', '--json'];

/**
 * Two `basis train` processes into one `--out` (the second started `delayMs` later), then checks
 * that the run left behind is whole and consistent: every process either succeeded or failed
 * with a typed error (IO for the lock, USAGE for a finished run), only one trained each seed,
 * train.json matches every run directory's model (architecture, width, epochs, seed), each final
 * model and its latest checkpoint load, and no lock or temp file is left.
 * Variants: 0 same config, 1 other width, 2 other epochs, 3 other seed.
 */
export async function raceTrain(dir: string, trial: number, delayMs: number): Promise<RaceTrial> {
  const { readFile: rf, readdir: rd } = await import('node:fs/promises');
  const zoo = await import('@basis/zoo/node');
  const variant = (['same config', 'other width', 'other epochs', 'other seed'] as const)[trial % 4]!;
  const out = join(dir, `race-${trial}`);
  const a = [...RACE_BASE, '--width', '16', '--epochs', '2', '--seeds', '0', '--out', out];
  const b = [...RACE_BASE, '--width', variant === 'other width' ? '24' : '16', '--epochs', variant === 'other epochs' ? '3' : '2', '--seeds', variant === 'other seed' ? '1' : '0', '--out', out];
  // a long timeout: on a starved machine a tiny training can take minutes, and a process killed by
  // the harness would be reported as a failure of basis
  const train = async (args: string[]): Promise<Outcome> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, 'train', ...args], { timeout: 1_200_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };
  const first = train(a);
  const second = new Promise<Outcome>((r) => setTimeout(() => r(train(b)), delayMs));
  const [ra, rb] = await Promise.all([first, second]);
  const problems: string[] = [];
  const line = (r: Outcome): string => r.stderr.split('\n').find((l) => l.startsWith('basis: error')) ?? '';
  for (const [name, r] of [['first', ra], ['second', rb]] as const) {
    if (r.code !== 0 && !/^basis: error \[(IO|USAGE)\]: /.test(line(r))) problems.push(`${name} failed without a typed IO/USAGE error (exit ${r.code}): ${r.stderr.slice(-400)}`);
    if (r.code === 0 && (r.stdout === '' || JSON.parse(r.stdout) === null)) problems.push(`${name} succeeded without a result`);
  }
  const winners = [ra, rb].filter((r) => r.code === 0).length;
  if (winners === 0) problems.push('neither process trained');
  if (winners === 2 && variant !== 'other seed') problems.push('both processes trained into the same run directory');
  const loser = winners === 2 ? 'both succeeded' : line(ra.code !== 0 ? ra : rb);
  const names = await rd(out).catch(() => [] as string[]);
  const cfg = JSON.parse(await rf(join(out, 'train.json'), 'utf8')) as { model: { width: number; arch: string }; train: { epochs: number }; seeds: number[] };
  for (const n of names) if (n.startsWith('.')) problems.push(`leftover ${n} in ${out}`);
  const seedDirs = names.filter((n) => n.startsWith('seed-'));
  if (seedDirs.length === 0) problems.push('no run directory');
  for (const sd of seedDirs) {
    const seed = Number(sd.slice(5));
    if (!cfg.seeds.includes(seed)) problems.push(`${sd} is not listed in train.json (seeds ${JSON.stringify(cfg.seeds)})`);
    const rdir = join(out, sd);
    for (const n of await rd(rdir)) if (n.startsWith('.')) problems.push(`leftover ${n} in ${rdir}`);
    try {
      const m = JSON.parse(await rf(join(rdir, 'manifest.json'), 'utf8')) as { graph: { name: string }; epoch: number; seed: number };
      if (m.graph.name !== `mlp-${cfg.model.width}-relu`) problems.push(`${sd}: model ${m.graph.name} but train.json says width ${cfg.model.width}`);
      if (m.epoch !== cfg.train.epochs) problems.push(`${sd}: trained ${m.epoch} epochs but train.json says ${cfg.train.epochs}`);
      if (m.seed !== seed) problems.push(`${sd}: manifest seed ${m.seed}`);
      const model = await zoo.loadModel(rdir);
      const cps = await zoo.listCheckpoints(rdir);
      // the last checkpoint loaded as a model: its parameters under the graph's names (a checkpoint's own
      // map is keyed by state-dict names, and iterating it with Object.entries compared nothing)
      const last = await zoo.loadModel(cps.at(-1)!.path);
      if (Object.keys(last.params).length === 0) problems.push(`${sd}: the last checkpoint has no parameters`);
      for (const [k, v] of Object.entries(last.params)) {
        const w = model.params[k];
        if (w === undefined || w.data.length !== v.data.length || w.data.some((x, i) => x !== v.data[i])) problems.push(`${sd}: final model differs from its last checkpoint at ${k}`);
      }
    } catch (e) {
      problems.push(`${sd}: ${(e as Error).message}`);
    }
  }
  return { variant, delayMs, codes: [ra.code, rb.code], loser, problems };
}
