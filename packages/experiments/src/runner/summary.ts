// The index of `basis reproduce all`: one row per claim of every experiment run, with the
// paper's number, the measured value and its interval, the verdict and what would change it.
import { join } from 'node:path';
import { BasisError } from '@basis/tensor';
import { writeFileAtomic } from '@basis/tensor/node';
import type { ClaimCheck, Estimate } from '../recipes/types.js';
import { renderReport, type Report } from '../report.js';
import { stringifyStored } from './json.js';

/** What the index needs of one experiment run (a {@link RecipeRun} or a stored result.json). */
export interface IndexedRun {
  id: string;
  title: string;
  profile: string;
  seconds: number;
  checks: ClaimCheck[];
  recipeHash?: string;
  started?: string;
  /** The report's path relative to the index (omitted when the run failed). */
  report?: string;
  /** Why the run failed, when it did. */
  error?: string;
}

/** One row of the index. */
export interface IndexRow {
  experiment: string;
  claim: string;
  paper: string;
  measured: string;
  interval: string;
  verdict: string;
  change: string;
}

const num = (x: number): string => (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4) ? x.toExponential(2) : String(Number(x.toPrecision(3))));

function primaryOf(c: ClaimCheck): [string, Estimate] | undefined {
  const es = Object.entries(c.estimates ?? {});
  const primary = c.primary === undefined ? undefined : c.estimates?.[c.primary];
  if (c.primary !== undefined && primary !== undefined) return [c.primary, primary];
  return es[0];
}

/**
 * The rows of the index: one per claim (a failed run gets one row saying why).
 *
 * @example
 * ```ts
 * indexRows([run]).map((r) => `${r.experiment} ${r.verdict}`);
 * ```
 */
export function indexRows(runs: readonly IndexedRun[]): IndexRow[] {
  const rows: IndexRow[] = [];
  for (const r of runs) {
    if (r.error !== undefined) {
      rows.push({ experiment: r.id, claim: '(run failed)', paper: '', measured: r.error, interval: '', verdict: 'failed', change: 'a run that completes' });
      continue;
    }
    for (const c of r.checks) {
      const p = primaryOf(c);
      rows.push({
        experiment: r.id,
        claim: c.claim,
        paper: c.paper === '' ? '(no numbers in the seed)' : c.paper,
        measured: p === undefined ? c.measured : `${p[0]} = ${num(p[1].mean)}`,
        interval: p === undefined || p[1].n < 2 ? '' : `[${num(p[1].lo)}, ${num(p[1].hi)}] (n = ${p[1].n}${p[1].method === 'bootstrap95' ? ', bootstrap' : p[1].method === 't95' ? ', t' : p[1].method === 'cluster-t95' ? ' clusters, t' : ''})`,
        verdict: c.verdict,
        change: `${c.change ?? ''}${c.warnings !== undefined && c.warnings.length > 0 ? ` (warnings: ${c.warnings.join('; ')})` : ''}`,
      });
    }
  }
  return rows;
}

/**
 * The index as a report (rendered to HTML by {@link renderReport}).
 *
 * @example
 * ```ts
 * const report = indexReport(runs);
 * ```
 */
export function indexReport(runs: readonly IndexedRun[]): Report {
  if (runs.length === 0) throw new BasisError('TOO_SMALL', 'the index needs at least one experiment run');
  const rows = indexRows(runs);
  const count = (v: string): number => rows.filter((r) => r.verdict === v).length;
  const profiles = [...new Set(runs.map((r) => r.profile))];
  return {
    title: 'basis reproduce: every claim',
    subtitle: `${runs.length} experiment(s) · profile ${profiles.join(', ')} · ${count('held')} held, ${count('not held')} not held, ${count('inconclusive')} inconclusive${count('failed') > 0 ? `, ${count('failed')} failed` : ''}`,
    sections: [
      {
        heading: 'Claims',
        text: `One row per claim: what the paper reports, the measured value that decides the verdict with its 95% interval, the verdict, and what measured change would move it.${profiles.includes('quick') ? ' Quick-profile runs are too small to decide a claim: read their verdicts as smoke tests.' : ''}`,
        tables: [{ id: 'claims', title: 'Claims, measurements and verdicts', columns: ['experiment', 'claim', 'paper', 'measured', '95% interval', 'verdict', 'what would change the verdict'], rows: rows.map((r) => [r.experiment, r.claim, r.paper, r.measured, r.interval, r.verdict, r.change]) }],
      },
      {
        heading: 'Runs',
        tables: [
          {
            id: 'runs',
            title: 'Experiment runs',
            columns: ['experiment', 'title', 'profile', 'run time (s)', 'started', 'recipe hash', 'report'],
            rows: runs.map((r) => [r.id, r.title, r.profile, Math.round(r.seconds), r.started ?? '', r.recipeHash?.slice(0, 12) ?? '', r.report ?? (r.error === undefined ? '' : `failed: ${r.error}`)]),
          },
        ],
      },
    ],
    config: { experiments: runs.map((r) => r.id), profiles },
  };
}

/**
 * Writes `index.html` and `index.json` (the rows) into `dir`; returns their paths.
 *
 * @example
 * ```ts
 * await writeIndex('basis-reproduce', runs);
 * ```
 */
export async function writeIndex(dir: string, runs: readonly IndexedRun[]): Promise<{ html: string; json: string }> {
  const { html } = await renderReport(indexReport(runs));
  const paths = { html: join(dir, 'index.html'), json: join(dir, 'index.json') };
  await writeFileAtomic(paths.html, html);
  await writeFileAtomic(paths.json, stringifyStored({ runs: runs.map((r) => ({ id: r.id, title: r.title, profile: r.profile, seconds: r.seconds, recipeHash: r.recipeHash ?? null, started: r.started ?? null, report: r.report ?? null, error: r.error ?? null })), claims: indexRows(runs) }, 2));
  return paths;
}
