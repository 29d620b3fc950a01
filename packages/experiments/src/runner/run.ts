// `basis reproduce`: runs one recipe in a run directory and writes its report, result and figures.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BasisError, engineInfo, isBasisError, isParsed, type EngineInfo } from '@basis/tensor';
import { withDirLock, writeFileAtomic } from '@basis/tensor/node';
import type { BackendPreference } from '@basis/tensor/backend';
import { getRecipe, type AnyRecipe } from '../recipes/index.js';
import type { ClaimCheck, Estimate, Profile, RecipeResult, Verdict } from '../recipes/types.js';
import { figureCsv, renderReport, type Report } from '../report.js';
import { mergeConfig } from './config.js';
import { createRunContext, type RunStats } from './context.js';
import type { Executor } from './executor.js';
import { formatEstimate } from './estimate.js';
import { recipeHash } from './hash.js';
import { QUICK_CAVEAT } from '../recipes/verdict.js';
import { stringifyStored } from './json.js';

/**
 * Options of {@link runRecipe}.
 *
 * @example
 * ```ts
 * const opts: RunRecipeOptions = { profile: 'quick', out: 'reproduce/E000-1', config: { widths: [16, 32] } };
 * ```
 */
export interface RunRecipeOptions {
  profile: Profile;
  /** Output folder: report.html, result.json, figures/ (created). */
  out: string;
  /**
   * Overrides of the profile's configuration (merged key by key, then validated by the recipe), or
   * the configuration {@link resolveConfig} returned for this recipe and profile, which a recipe
   * declaring a schema runs as it is (parsed once).
   */
  config?: Record<string, unknown>;
  /** Base seed (default 0). */
  seed?: number;
  /** Folder of the run cache (default `out`); share it between recipes to reuse their common models. */
  cacheDir?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** Told once when a needed model is being trained by another process sharing the cache (the run waits for it); default: stderr. */
  onWait?: (line: string) => void;
  /** Interrupts the run; finished models and memoised results stay in the cache. */
  signal?: AbortSignal;
  /** Training worker threads (default: one per core). */
  workers?: number;
  /** Backend of the training workers (default 'auto'). The calling thread's backend is the caller's choice. */
  backend?: BackendPreference;
  /** Backend and versions to record in the report. */
  environment?: Record<string, unknown>;
  /**
   * Who trains the missing models (default: the local worker-thread pool). With a queue executor
   * (`createQueueExecutor`) `cacheDir` must be a folder every worker reaches at the same absolute path.
   */
  executor?: Executor;
}

/**
 * What {@link runRecipe} returns (also written, with the measured data, as result.json).
 *
 * @example
 * ```ts
 * const r = await runRecipe('E000-1', { profile: 'quick', out: 'out/E000-1' });
 * r.checks.map((c) => c.verdict); // ['held', ...]
 * ```
 */
export interface RecipeRun {
  id: string;
  title: string;
  source: string;
  profile: Profile;
  seed: number;
  config: unknown;
  checks: ClaimCheck[];
  notes: string[];
  data: Record<string, unknown>;
  versions: Record<string, string>;
  environment: Record<string, unknown>;
  /**
   * The compute engine of the run (`engineInfo()`: provider, library, core type, threads). Not part
   * of any cache key: a cached model stays valid on another engine; each model's manifest.json
   * records the engine that trained it.
   */
  engine: EngineInfo;
  stats: RunStats;
  /** Wall-clock run time in seconds. */
  seconds: number;
  /** When the run started (ISO 8601, UTC). */
  started: string;
  /** SHA-256 over the recipe's own source files and the configuration (the gallery's staleness check). */
  recipeHash: string;
  /** The source files `recipeHash` covers (under the package's src/recipes). */
  recipeSources: string[];
  /** Files written, relative to `out`. */
  files: string[];
}

const VERDICT_MARK: Record<Verdict, string> = { held: 'held', 'not held': 'NOT held', inconclusive: 'inconclusive' };

function estimatesText(es: Record<string, Estimate> | undefined): string {
  if (es === undefined) return '';
  return Object.entries(es)
    .map(([k, e]) => `${k}: ${formatEstimate(e)}${e.method === 'bootstrap95' ? ' (bootstrap 95%)' : e.method === 't95' ? ' (t 95%)' : e.method === 'cluster-t95' ? ' (t 95% over cluster means)' : ''}`)
    .join('; ');
}

/**
 * The report of a recipe run: claims with the paper's and basis's results and the verdicts, the
 * recipe's figures and tables, its notes, and the exact configuration and versions.
 *
 * @example
 * ```ts
 * const report = recipeReport(recipe, result, { profile: 'quick', seed: 0, config, versions: {}, environment: {}, seconds: 12 });
 * ```
 */
export function recipeReport(
  recipe: Pick<AnyRecipe, 'id' | 'title' | 'source'>,
  result: RecipeResult,
  run: { profile: Profile; seed: number; config: unknown; versions: Record<string, string>; environment: Record<string, unknown>; seconds: number; stats?: RunStats; engine?: EngineInfo; recipeHash?: string; started?: string },
): Report {
  const counts = (['held', 'not held', 'inconclusive'] as const).map((v) => [v, result.checks.filter((c) => c.verdict === v).length] as const).filter(([, n]) => n > 0);
  return {
    title: `${recipe.id}: ${recipe.title}`,
    subtitle: `${recipe.source} · profile ${run.profile}${run.profile === 'quick' ? ' (too small to decide)' : ''} · seed ${run.seed} · ${counts.map(([v, n]) => `${n} ${v}`).join(', ')} · ${run.seconds.toFixed(0)} s${run.started === undefined ? '' : ` · ${run.started.slice(0, 10)}`}${run.recipeHash === undefined ? '' : ` · recipe ${run.recipeHash.slice(0, 12)}`}`,
    sections: [
      {
        heading: 'Claims, results and verdicts',
        text: 'Each row is one claim of the paper (as seeds-spec reads it), what the paper reports, what basis measured at small scale with 95% confidence intervals over seeds or pairs, and the verdict. Verdicts are computed from the measured intervals with the criterion stated in the row; nothing is hard-coded.',
        tables: [
          {
            id: 'claims',
            title: 'Paper versus basis',
            columns: ['claim', 'paper', 'basis measured', 'verdict', 'estimates (95% CI)', 'criterion', 'what would change the verdict'],
            rows: result.checks.map((c) => [
              c.claim,
              c.paper === '' ? '(no numbers in the seed)' : c.paper,
              c.measured,
              VERDICT_MARK[c.verdict],
              estimatesText(c.estimates),
              `${c.criterion ?? ''}${c.warnings !== undefined && c.warnings.length > 0 ? ` Warnings: ${c.warnings.join('; ')}` : ''}`,
              c.change ?? '',
            ]),
          },
        ],
      },
      ...(result.figures.length > 0 ? [{ heading: 'Figures', figures: result.figures }] : []),
      ...(result.tables.length > 0 ? [{ heading: 'Tables', tables: result.tables }] : []),
      ...(result.notes.length > 0 ? [{ heading: 'Notes, choices and deviations', text: result.notes.join('\n\n') }] : []),
    ],
    config: {
      experiment: recipe.id,
      source: recipe.source,
      profile: run.profile,
      seed: run.seed,
      ...(run.started === undefined ? {} : { started: run.started, seconds: Math.round(run.seconds) }),
      ...(run.recipeHash === undefined ? {} : { recipeHash: run.recipeHash }),
      config: run.config,
      versions: run.versions,
      environment: run.environment,
      ...(run.engine === undefined ? {} : { engine: run.engine }),
      ...(run.stats === undefined ? {} : { cache: run.stats }),
    },
  };
}

function checkResult(id: string, r: RecipeResult): void {
  const bad = (m: string): never => {
    throw new BasisError('INVALID_ARGUMENT', `recipe ${id} returned an invalid result: ${m}`);
  };
  if (r === null || typeof r !== 'object') bad('not an object');
  if (!Array.isArray(r.checks) || r.checks.length === 0) bad('no claim checks');
  r.checks.forEach((c, i) => {
    if (typeof c.claim !== 'string' || c.claim === '' || typeof c.measured !== 'string' || c.measured === '') bad(`checks[${i}] lacks its claim or measured text`);
    if (!['held', 'not held', 'inconclusive'].includes(c.verdict)) bad(`checks[${i}].verdict is '${String(c.verdict)}'`);
    if (c.warnings !== undefined && c.warnings.length > 0 && c.verdict !== 'inconclusive') bad(`checks[${i}] has estimator warnings but verdict '${c.verdict}' (warnings force inconclusive)`);
    if (c.primary !== undefined && c.estimates?.[c.primary] === undefined) bad(`checks[${i}].primary names '${c.primary}', which is not one of its estimates`);
    for (const [k, e] of Object.entries(c.estimates ?? {})) {
      if (![e.mean, e.lo, e.hi].every(Number.isFinite) || !(e.lo <= e.mean + 1e-12 && e.mean <= e.hi + 1e-12)) bad(`checks[${i}].estimates.${k} is not a finite interval around its mean`);
    }
  });
  const ids = new Set<string>();
  for (const f of [...r.figures, ...r.tables]) {
    if (!/^[A-Za-z0-9_.-]+$/.test(f.id)) bad(`figure or table id '${f.id}' is not file-safe`);
    if (ids.has(f.id)) bad(`figure or table id '${f.id}' appears twice`);
    ids.add(f.id);
  }
}

/**
 * Runs the recipe `id` with the configuration of `profile` (overridden by `config`), caching
 * models and intermediate results in the run directory, and writes `out/report.html` (claims,
 * paper vs basis, verdicts with CIs, figures, tables, notes, configuration and versions),
 * `out/result.json` and `out/figures/<id>.svg|.csv|.vl.json`. Interrupting (`signal`) keeps every
 * finished model; running again resumes. `out` is locked for writing while the recipe runs (another
 * process writing there makes this fail at once with IO naming it); the cache may be shared. The calling thread's tfjs backend is used for evaluation;
 * training runs on worker threads.
 *
 * @example
 * ```ts
 * import { runRecipe } from '@basis/experiments/node';
 * const r = await runRecipe('E002-1', { profile: 'quick', out: 'reproduce/E002-1', onProgress: (s, d, t) => console.error(s, d, t) });
 * console.log(r.checks.map((c) => `${c.verdict}: ${c.claim}`));
 * ```
 */
export async function runRecipe(id: string, opts: RunRecipeOptions): Promise<RecipeRun> {
  const recipe = getRecipe(id);
  if (opts.profile !== 'quick' && opts.profile !== 'standard' && opts.profile !== 'full') throw new BasisError('CONFIG_INVALID', `profile must be 'quick', 'standard' or 'full', got ${String(opts.profile)}`, { details: { field: 'profile' } });
  if (typeof opts.out !== 'string' || opts.out === '') throw new BasisError('CONFIG_INVALID', 'out must be a folder path', { details: { field: 'out' } });
  // one writer per output folder: another process writing there fails this at once (IO naming it)
  return withDirLock(opts.out, { cleanDepth: 1 }, () => runRecipeLocked(recipe, opts));
}

/**
 * The validated configuration of recipe `id` at `profile` with `override` (an experiment file's
 * `config`) merged into it: what {@link runRecipe} runs and its report records. Handing it to
 * runRecipe as `config` (and to `estimateRunTime`) parses the configuration once: a recipe that
 * declares a schema returns a frozen parsed value, which runRecipe runs as it is.
 *
 * @example
 * ```ts
 * const config = resolveConfig('E000-1', 'quick', { widths: [16, 32] });
 * estimateRunTime('E000-1', 'quick', { config });
 * await runRecipe('E000-1', { profile: 'quick', out: 'reproduce/E000-1', config });
 * ```
 */
export function resolveConfig(id: string, profile: Profile, override?: Record<string, unknown>): Record<string, unknown> {
  const recipe = getRecipe(id);
  if (profile !== 'quick' && profile !== 'standard' && profile !== 'full') throw new BasisError('CONFIG_INVALID', `profile must be 'quick', 'standard' or 'full', got ${String(profile)}`, { details: { field: 'profile' } });
  const base = recipe.profiles[profile] as Record<string, unknown>;
  return recipe.checkConfig(override === undefined ? base : mergeConfig(base, override)) as Record<string, unknown>;
}

async function runRecipeLocked(recipe: ReturnType<typeof getRecipe>, opts: RunRecipeOptions): Promise<RecipeRun> {
  const seed = opts.seed ?? 0;
  const base = recipe.profiles[opts.profile] as Record<string, unknown>;
  // a value resolveConfig returned (parsed by the recipe's schema) is not merged and parsed again
  const resolved = recipe.configSchema !== undefined && isParsed(recipe.configSchema, opts.config);
  const config: unknown = resolved ? opts.config : recipe.checkConfig(opts.config === undefined ? base : mergeConfig(base, opts.config));
  const hashed = await recipeHash(recipe, config);
  const started = new Date().toISOString();
  const t0 = performance.now();
  await mkdir(join(opts.out, 'figures'), { recursive: true });
  const ctx = await createRunContext({
    dir: opts.cacheDir ?? opts.out,
    recipeId: recipe.id,
    profile: opts.profile,
    seed,
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.onWait === undefined ? {} : { onWait: opts.onWait }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.workers === undefined ? {} : { workers: opts.workers }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    ...(opts.executor === undefined ? {} : { executor: opts.executor }),
  });
  let result: RecipeResult;
  try {
    result = await recipe.run(ctx, config);
  } catch (e) {
    if (opts.signal?.aborted === true && !(isBasisError(e) && e.code === 'CONFIG_INVALID')) {
      throw new BasisError('INVALID_ARGUMENT', `${recipe.id} was interrupted; finished models and results are kept in ${ctx.dir}, run the same command again to resume`, { cause: e, details: { aborted: true } });
    }
    throw e;
  } finally {
    await ctx.close();
  }
  checkResult(recipe.id, result);
  if (opts.profile === 'quick') result = { ...result, notes: [QUICK_CAVEAT, ...result.notes] };
  const seconds = (performance.now() - t0) / 1000;
  const environment = opts.environment ?? {};
  const engine = engineInfo();
  const report = recipeReport(recipe, result, { profile: opts.profile, seed, config, versions: ctx.versions, environment, seconds, stats: ctx.stats, engine, recipeHash: hashed.hash, started });
  const { html, svgs } = await renderReport(report);
  const files: string[] = [];
  for (const f of result.figures) {
    await writeFileAtomic(join(opts.out, 'figures', `${f.id}.svg`), svgs[f.id] as string);
    await writeFileAtomic(join(opts.out, 'figures', `${f.id}.vl.json`), JSON.stringify(f.spec, null, 2));
    await writeFileAtomic(join(opts.out, 'figures', `${f.id}.csv`), figureCsv(f));
    files.push(`figures/${f.id}.svg`, `figures/${f.id}.vl.json`, `figures/${f.id}.csv`);
  }
  await writeFileAtomic(join(opts.out, 'report.html'), html);
  const run: RecipeRun = {
    id: recipe.id,
    title: recipe.title,
    source: recipe.source,
    profile: opts.profile,
    seed,
    config,
    checks: result.checks,
    notes: result.notes,
    data: result.data,
    versions: ctx.versions,
    environment,
    engine,
    stats: { ...ctx.stats },
    seconds,
    started,
    recipeHash: hashed.hash,
    recipeSources: hashed.files,
    files: ['report.html', 'result.json', ...files],
  };
  await writeFileAtomic(join(opts.out, 'result.json'), stringifyStored({ ...run, tables: result.tables }, 2));
  return run;
}
