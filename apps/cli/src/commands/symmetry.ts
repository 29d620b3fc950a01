import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BasisError, createRng } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { ACTIVATION_IDS, act, getActivation, groupLabel, probeActivation, sampleAssignment, symmetryTable, type ProbeResult } from '@basis/symmetry';
import { checkModelSymmetry, forward, inferSpec, paramsToTensors, toFloat32, toFloat64, type ModelGraph, type ParamDict } from '@basis/zoo';
import { saveModel } from '@basis/zoo/node';
import type { CommandContext } from '../context.js';
import { formatNumber, formatTable } from '../table.js';
import { openModel, testSet, type ModelArgs } from './model-args.js';
import { withDirLock, writeFileAtomic } from '@basis/tensor/node';

/** Options of `basis symmetry`. */
export interface SymmetryCommandOptions {
  /** check / apply: the model flags (bare weights files, --dataset), parsed at the door. */
  margs: ModelArgs;
  fn?: string;
  /** table / probe: units of the random group elements (>= 2). */
  n: number;
  slope?: number;
  degree?: number;
  /** check / apply: the MODEL argument. */
  model?: string;
  /** apply: where to write the transformed model. */
  out?: string;
  /** check / apply: number of test inputs to run the model on (>= 2). */
  inputs: number;
  /** check: relative tolerance (> 0; float32). */
  tol: number;
  /** check: random elements per group (>= 1). */
  trials: number;
  /** check / apply: log-scale spread of random positive scales (>= 0). */
  scaleSigma: number;
}

/** Parses `--fn`: an arrow/function expression (`x => Math.max(x, 0)`) or an expression in x (`Math.tanh(x)`). */
export function parseActivation(src: string): (x: number) => number {
  let fn: unknown;
  try {
    // the user's own expression, typed on their command line: evaluating it is the point of --fn
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    fn = (new Function(`"use strict"; return (${src});`) as () => unknown)();
  } catch {
    fn = undefined;
  }
  if (typeof fn !== 'function') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      fn = new Function('x', `"use strict"; return (${src});`);
    } catch (e) {
      throw new BasisError('USAGE', `--fn is not a JavaScript function or expression in x: ${(e as Error).message}; e.g. --fn "x => Math.max(x, 0)"`);
    }
  }
  const f = fn as (x: number) => unknown;
  return (x: number) => {
    let y: unknown;
    try {
      y = f(x);
    } catch (e) {
      throw new BasisError('INVALID_ARGUMENT', `--fn threw at x = ${x}: ${(e as Error).message}`);
    }
    if (typeof y !== 'number') throw new BasisError('INVALID_ARGUMENT', `--fn returned ${typeof y} at x = ${x}; it must return a number`);
    return y;
  };
}

const err = (v: number | null): string => (v === null ? '-' : formatNumber(v, 2));

function probeRows(r: ProbeResult): (string | number)[][] {
  const rows: (string | number)[][] = [['candidate family', 'worst residual', 'survives']];
  for (const [family, v] of Object.entries(r.families)) rows.push([family, formatNumber(v.residual, 3), v.survives ? 'yes' : 'no']);
  return rows;
}

/** The model and a batch of its test inputs (as a tfjs tensor; the caller disposes it). */
async function modelAndInputs(ctx: CommandContext, opts: SymmetryCommandOptions, action: string): Promise<Awaited<ReturnType<typeof openModel>> & { x: tf.Tensor }> {
  if (opts.model === undefined) throw new BasisError('USAGE', `basis symmetry ${action} needs a MODEL (a checkpoint directory, or a weights file with --arch), e.g. basis symmetry ${action} runs/seed-0`);
  const inputs = opts.inputs;
  const m = await openModel(opts.model, opts.margs, (t) => ctx.info(t));
  const data = await testSet(m.data, inputs);
  await selectBackend(ctx.options.backend);
  return { ...m, x: tf.tensor(data.x, [data.n, ...m.graph.input], 'float32') };
}

/** Largest |f'(x) - f(x)| relative to max |f(x)| of two parameter sets on the same inputs. */
function outputChange(graph: ModelGraph, a: ParamDict, b: ParamDict, x: tf.Tensor): number {
  return tf.tidy(() => {
    const ta = paramsToTensors(a);
    const tb = paramsToTensors(b);
    const ya = forward(graph, ta, x).output.dataSync();
    const yb = forward(graph, tb, x).output.dataSync();
    let num = 0;
    let den = 0;
    for (let i = 0; i < ya.length; i++) {
      num = Math.max(num, Math.abs((ya[i] as number) - (yb[i] as number)));
      den = Math.max(den, Math.abs(ya[i] as number));
    }
    Object.values(ta).forEach((t) => t.dispose());
    Object.values(tb).forEach((t) => t.dispose());
    return den === 0 ? num : num / den;
  });
}

/** `basis symmetry check MODEL`: infers the spec from the graph and verifies it on test inputs. */
async function runCheck(ctx: CommandContext, opts: SymmetryCommandOptions): Promise<void> {
  const { tol, trials, scaleSigma } = opts;
  const m = await modelAndInputs(ctx, opts, 'check');
  let result: Awaited<ReturnType<typeof checkModelSymmetry>>;
  try {
    result = await checkModelSymmetry(m.graph, m.params, m.x, { tol, trials, scaleSigma, seed: ctx.options.seed, throwOnFailure: false });
  } finally {
    m.x.dispose();
  }
  const { spec, report } = result;
  ctx.info(`verified the inferred symmetry spec of ${m.graph.name} (${m.path}) on ${m.x.shape[0]} inputs, ${trials} random elements per group (seed ${ctx.options.seed})`);
  if (!report.ok) {
    throw new BasisError(
      'NOT_A_SYMMETRY',
      `the inferred spec of ${m.graph.name} failed verification (tolerance ${tol}): ${report.offending.join(', ')}; worst output error ${formatNumber(report.worstOutputError, 3)}, worst feature error ${formatNumber(report.worstFeatureError, 3)}`,
    );
  }
  ctx.result({ model: m.path, graph: m.graph.name, inputs: m.x.shape[0], spec, report }, () => {
    const rows: (string | number)[][] = [['group', 'kind', 'units', 'activation', 'worst output error', 'ok']];
    for (const g of report.groups) {
      const decl = spec.groups[g.name]!;
      rows.push([g.name, groupLabel(decl.kind), String(g.size), decl.activation ?? '-', formatNumber(g.worstError, 3), g.ok ? 'yes' : 'NO']);
    }
    const tied = Object.values(spec.groups).filter((d) => d.note !== undefined).map((d) => d.note);
    return (
      `${formatTable(rows)}\n\n` +
      `${report.groups.length} groups; all groups at once: output error ${formatNumber(report.joint.worstError, 3)}; ` +
      `hidden features (${report.features.length} checked): worst error ${formatNumber(report.worstFeatureError, 3)}; tolerance ${formatNumber(tol, 3)} (relative, float32)` +
      (tied.length > 0 ? `\nnotes: ${[...new Set(tied)].join('; ')}` : '')
    );
  });
}

async function checkOutDir(out: string, model: string): Promise<void> {
  if (resolve(out) === resolve(model)) throw new BasisError('USAGE', '--out must differ from MODEL');
  let names: string[];
  try {
    if (!(await stat(out)).isDirectory()) throw new BasisError('USAGE', `--out '${out}' is a file; give a directory`);
    names = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const ours = new Set(['manifest.json', 'model.safetensors', 'optimizer.safetensors', 'symmetry.json']);
  const foreign = names.filter((n) => !ours.has(n));
  if (foreign.length > 0) throw new BasisError('USAGE', `--out '${out}' exists and holds other files (${foreign.slice(0, 3).join(', ')}); choose a new directory`);
}

/** `basis symmetry apply MODEL --out OTHER`: a functionally identical model, moved by a random group element. */
async function runApply(ctx: CommandContext, opts: SymmetryCommandOptions): Promise<void> {
  if (opts.out === undefined) throw new BasisError('USAGE', 'basis symmetry apply needs --out DIR for the transformed model');
  if (opts.model !== undefined) await checkOutDir(opts.out, opts.model);
  const scaleSigma = opts.scaleSigma;
  const m = await modelAndInputs(ctx, opts, 'apply');
  try {
    const spec = inferSpec(m.graph);
    const assignment = sampleAssignment(spec, createRng(ctx.options.seed), { scaleSigma });
    const moved = toFloat32(act(toFloat64(m.params), spec, assignment));
    const change = outputChange(m.graph, m.params, moved, m.x);
    let num = 0;
    let den = 0;
    for (const [k, v] of Object.entries(m.params)) {
      const w = moved[k]!.data;
      for (let i = 0; i < v.data.length; i++) {
        num += ((w[i] as number) - (v.data[i] as number)) ** 2;
        den += (v.data[i] as number) ** 2;
      }
    }
    const weightChange = Math.sqrt(num / den);
    const groups = Object.fromEntries(Object.entries(assignment).map(([g, el]) => [g, el.toJSON()]));
    const record = { source: m.path, seed: ctx.options.seed, scaleSigma, groups: Object.keys(groups), outputChange: change, weightChange };
    const out = resolve(opts.out);
    await withDirLock(out, { cleanDepth: 0 }, async () => {
      await saveModel(out, { graph: m.graph, params: moved, base: m.manifest, meta: { symmetry: record } });
      await writeFileAtomic(join(out, 'symmetry.json'), JSON.stringify({ format: 'basis.symmetry-element', version: 1, ...record, spec, assignment: groups }, null, 2) + '\n');
    });
    ctx.info(`applied a random element of ${Object.keys(groups).length} groups of ${m.graph.name} (seed ${ctx.options.seed}) to ${m.path}`);
    ctx.result({ out, ...record }, () =>
      formatTable([
        ['item', 'value'],
        ['written to', out],
        ['groups acted on', String(Object.keys(groups).length)],
        ['relative weight change', formatNumber(weightChange, 3)],
        [`output change on ${m.x.shape[0]} inputs`, formatNumber(change, 3)],
        ['group elements', join(out, 'symmetry.json')],
      ]),
    );
  } finally {
    m.x.dispose();
  }
}

/** `basis symmetry table|probe|check|apply`. */
export async function runSymmetry(ctx: CommandContext, action: string, opts: SymmetryCommandOptions): Promise<void> {
  if (action === 'check') return runCheck(ctx, opts);
  if (action === 'apply') return runApply(ctx, opts);
  const n = opts.n;
  if (action === 'table') {
    const t0 = performance.now();
    const rows = symmetryTable({ n, seed: ctx.options.seed });
    const ms = performance.now() - t0;
    ctx.info(`checked ${rows.length} activations numerically on ${n} units in ${ms.toFixed(0)} ms (seed ${ctx.options.seed})`);
    ctx.result({ n, seed: ctx.options.seed, rows }, () => {
      const table: (string | number)[][] = [['activation', 'σ(x)', 'group (closed form)', 'group (probed)', 'φ(A)', 'agree', '|σ(Ax)-φ(A)σ(x)|', 'hom. error', 'Haar residual']];
      for (const r of rows) {
        table.push([r.id, r.formula, r.declared, r.probed, r.phi, r.agree ? 'yes' : 'NO', err(r.actionError), err(r.homomorphismError), formatNumber(r.orthogonalResidual, 3)]);
      }
      return formatTable(table) + '\n\nEvery row is computed: the probe fits B in σ(Ax) ≈ Bσ(x) by least squares for random permutations, sign flips,\npositive scalings, rotations and invertible maps; residuals below 1e-6 survive. "Haar residual": a random rotation (> 0.1 unless GL_n).';
    });
    return;
  }
  if (action === 'probe') {
    if (opts.fn === undefined) {
      throw new BasisError('USAGE', 'basis symmetry probe needs --fn, e.g. --fn "x => Math.max(x, 0)" (or a registry id: --fn relu)');
    }
    let fn: (x: number) => number;
    let label: string;
    if (ACTIVATION_IDS.includes(opts.fn)) {
      const act = getActivation(opts.fn, { ...(opts.slope === undefined ? {} : { slope: opts.slope }), ...(opts.degree === undefined ? {} : { degree: opts.degree }) });
      fn = act.fn;
      label = `${act.id} (${act.formula})`;
    } else {
      fn = parseActivation(opts.fn);
      label = opts.fn;
    }
    const r = probeActivation(fn, { n, seed: ctx.options.seed });
    const phi = r.phi === null ? '-' : r.phi === 'other' ? 'other (B fits none of A, |A|, A^∘d)' : r.phi === 'identity' ? 'A' : r.phi === 'abs' ? '|A|' : `A^∘${r.phi.power}`;
    ctx.result({ fn: label, ...r }, () => `${formatTable(probeRows(r))}\n\nσ = ${label}\nintertwiner group (families tried): ${r.label}\nφ(A) = ${phi}`);
    return;
  }
  throw new BasisError('USAGE', `unknown symmetry action '${action}'; use 'basis symmetry table', 'basis symmetry probe --fn "x => ..."', 'basis symmetry check MODEL' or 'basis symmetry apply MODEL --out DIR'`);
}
