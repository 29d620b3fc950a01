import { BasisError } from '@basis/tensor';
import { ACTIVATION_IDS, getActivation, probeActivation, symmetryTable, type ProbeResult } from '@basis/symmetry';
import type { CommandContext } from '../context.js';
import { formatNumber, formatTable } from '../table.js';

/** Options of `basis symmetry`. */
export interface SymmetryCommandOptions {
  fn?: string;
  n: number;
  slope?: number;
  degree?: number;
}

function positiveInt(v: unknown, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new BasisError('USAGE', `${flag} must be an integer >= ${min}, got '${String(v)}'`);
  return n;
}

/** Parses `--fn`: an arrow/function expression (`x => Math.max(x, 0)`) or an expression in x (`Math.tanh(x)`). */
export function parseActivation(src: string): (x: number) => number {
  let fn: unknown;
  try {
    fn = new Function(`"use strict"; return (${src});`)();
  } catch {
    fn = undefined;
  }
  if (typeof fn !== 'function') {
    try {
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

/** `basis symmetry table` and `basis symmetry probe --fn ...`. */
export async function runSymmetry(ctx: CommandContext, action: string, opts: SymmetryCommandOptions): Promise<void> {
  const n = positiveInt(opts.n, '--n', 2);
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
  throw new BasisError('USAGE', `unknown symmetry action '${action}'; use 'basis symmetry table' or 'basis symmetry probe --fn "x => ..."'`);
}
