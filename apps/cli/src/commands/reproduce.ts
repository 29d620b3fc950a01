// `basis reproduce`: runs the experiment recipes of the seed papers (one id, or all) with the run
// cache, progress bars and Ctrl-C that keeps finished work.
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { BasisError, isBasisError, threadBudget } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import type { QueueExecutorOptions } from '@basis/experiments/node';
import type { CommandContext } from '../context.js';
import { CLI_VERSION } from '../version.js';
import { ProgressBars, formatDuration } from '../progress.js';
import { formatTable } from '../table.js';

/** Signals that stop a reproduction gracefully (then, after {@link STOP_GRACE_MS}, at once). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How long a stopping run may take to reach a point that looks at the signal before it exits anyway. */
export const STOP_GRACE_MS = 5000;

/** 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), as shells report it. */
function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + (osConstants.signals[sig] ?? 2);
}

/** Flags of `basis reproduce`. */
export interface ReproduceFlags {
  quick: boolean;
  list: boolean;
  out?: string;
  config?: string;
  cache?: string;
  /** Training worker threads (>= 1). */
  workers?: number;
  /** `quick`, `standard` or `full` (`--quick` is `quick`). */
  profile?: 'quick' | 'standard' | 'full';
  /** `--queue`: train on `basis worker` processes through this Redis queue ('' = BASIS_QUEUE). */
  queue?: string;
  /** `--queue-name`: the BullMQ queue (default basis). */
  queueName?: string;
}

interface Summary {
  id: string;
  title: string;
  profile: string;
  report: string | null;
  seconds: number;
  /** The estimate printed before the run started (empty cache). */
  estimatedSeconds: number;
  verdicts: Array<{ claim: string; verdict: string }>;
  trained: number;
  reused: number;
  error?: string;
}

/**
 * `basis reproduce <id>|all [--quick] [--out DIR] [--config FILE] [--cache DIR]` and
 * `basis reproduce --list`. Returns the exit code (128 + the signal's number when interrupted:
 * 130 for Ctrl-C, 143 for SIGTERM).
 */
export async function runReproduce(ctx: CommandContext, id: string | undefined, flags: ReproduceFlags): Promise<number> {
  const { RECIPE_LIST, createQueueExecutor, estimateRunTime, formatEstimateSeconds, getRecipe, readExperimentFile, resolveConfig, runRecipe, writeIndex } = await import('@basis/experiments/node');
  if (flags.list) {
    // with --profile (or --quick): the estimated run time of each experiment at that profile
    const listProfile = flags.quick ? 'quick' : flags.profile;
    const rows = RECIPE_LIST.map((r) => ({ id: r.id, title: r.title, source: r.source, ...(listProfile === undefined ? {} : { profile: listProfile, estimatedSeconds: Math.round(estimateRunTime(r.id, listProfile).seconds) }) }));
    ctx.result(rows, () =>
      formatTable([
        ['id', 'title', 'source', ...(listProfile === undefined ? [] : [`estimated time (${listProfile})`])],
        ...rows.map((r) => [r.id, r.title, r.source, ...(r.estimatedSeconds === undefined ? [] : [formatEstimateSeconds(r.estimatedSeconds)])]),
      ]),
    );
    return 0;
  }
  const file = flags.config === undefined ? undefined : await readExperimentFile(flags.config);
  let target = id ?? file?.experiment;
  if (target === undefined) throw new BasisError('USAGE', "name an experiment (e.g. 'basis reproduce E000-1'), 'all', or use --list");
  if (id !== undefined && file?.experiment !== undefined && file.experiment !== id) {
    throw new BasisError('USAGE', `--config ${flags.config} describes experiment ${file.experiment}, but the command names ${id}`);
  }
  if (target === 'all' && file !== undefined) throw new BasisError('USAGE', '--config applies to one experiment, not to all');
  const ids = target === 'all' ? RECIPE_LIST.map((r) => r.id) : [getRecipe(target).id];
  target = target === 'all' ? 'all' : ids[0]!;
  const workers = flags.workers;
  const profile = (flags.quick ? 'quick' : (flags.profile ?? file?.profile ?? 'full')) as 'quick' | 'standard' | 'full';
  const seed = file?.seed ?? ctx.options.seed;
  const out = resolve(flags.out ?? (target === 'all' ? 'basis-reproduce' : join('basis-reproduce', target)));
  const cacheDir = resolve(flags.cache ?? join(target === 'all' ? out : resolve(out, '..'), 'cache'));
  const backend = await selectBackend(ctx.options.backend);
  const environment = { basis: CLI_VERSION, node: process.versions.node, backend: `${backend.name} (${backend.package}@${backend.version})`, threads: threadBudget() };
  const bars = new ProgressBars(ctx.io.stderr, !ctx.options.quiet);
  // --queue: the models are trained by `basis worker` processes; the run cache is their shared store
  const executor = flags.queue === undefined ? undefined : await createQueueExecutor(queueExecutorOptions(flags, bars, (ctx.io.stderr as { isTTY?: boolean }).isTTY === true));
  ctx.info(`basis reproduce ${target} (${profile} profile, backend ${backend.name}) → ${out}; run cache ${cacheDir}${executor === undefined ? '' : `; models, captures and comparisons run by the workers of ${executor.description}`}`);
  // the estimate before anything starts (with an empty cache; models already in it make runs faster)
  const threadsNow = workers ?? threadBudget();
  // an experiment file's config, merged into the profile and validated once: the estimate and the run use the same value
  const configs = new Map(ids.map((rid) => [rid, file === undefined ? undefined : resolveConfig(rid, profile, file.config)] as const));
  const estimates = new Map(
    ids.map((rid) => {
      const config = configs.get(rid);
      return [rid, estimateRunTime(rid, profile, { threads: threadsNow, ...(config === undefined ? {} : { config }) })] as const;
    }),
  );
  const totalEstimate = [...estimates.values()].reduce((a, e) => a + e.seconds, 0);
  const toTrain = [...estimates.values()].reduce((a, e) => a + e.models, 0);
  ctx.info(
    `estimated run time: ${formatEstimateSeconds(totalEstimate)} with an empty cache (${ids.length === 1 ? '' : `${ids.length} experiments, `}${toTrain} model${toTrain === 1 ? '' : 's'} to train on ${threadsNow} thread${threadsNow === 1 ? '' : 's'}; fitted to the recorded gallery runs; models already in the cache make it faster)`,
  );

  const ctl = new AbortController();
  // SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the run gracefully: training stops after its current
  // step and every finished model and memoised result stays in the cache. The recipe's own code may
  // be in a computation that does not look at the signal, so after STOP_GRACE_MS (or at a second
  // signal) the process exits anyway; atomic writes keep the cache consistent and the locks are
  // released on exit.
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stoppedBy !== null) {
      bars.log(`${sig} again: stopping now; finished models and results are in ${cacheDir}`);
      bars.finish();
      process.exit(signalExitCode(sig));
    }
    stoppedBy = sig;
    bars.log(`interrupted (${sig}): stopping after the current training step; finished models and results stay in the cache (run the same command again to resume)`);
    ctl.abort();
    const deadline = setTimeout(() => {
      bars.log(`still running ${STOP_GRACE_MS / 1000} s after ${sig}: stopping now; finished models and results are in ${cacheDir}`);
      bars.finish();
      process.exit(signalExitCode(sig));
    }, STOP_GRACE_MS);
    deadline.unref();
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  const summaries: Summary[] = [];
  const indexed: Parameters<typeof writeIndex>[1][number][] = [];
  try {
    for (const rid of ids) {
      if (ctl.signal.aborted) break;
      const recipe = getRecipe(rid);
      const dir = target === 'all' ? join(out, rid) : out;
      const t0 = performance.now();
      bars.log(`${rid}: ${recipe.title} (estimated ${formatEstimateSeconds(estimates.get(rid)!.seconds)})`);
      // off a terminal the bars are silent: log each stage's steps (throttled) and its completion;
      // between stages (work that reports no steps) a heartbeat says what ran last and for how long
      const finished = new Set<string>();
      let current = 'starting';
      bars.heartbeat(() => `${rid}: working (last: ${current})`);
      try {
        const r = await runRecipe(rid, {
          profile,
          out: dir,
          cacheDir,
          seed,
          ...(configs.get(rid) === undefined ? {} : { config: configs.get(rid) }),
          signal: ctl.signal,
          onWait: (line) => bars.log(`${rid}: ${line}`),
          backend: ctx.options.backend,
          ...(workers === undefined ? {} : { workers }),
          ...(executor === undefined ? {} : { executor }),
          environment,
          onProgress: (stage, done, total) => {
            current = `${stage} ${Math.floor(done)}/${total}`;
            // every step with its elapsed time and an estimate (off a terminal at most every 2 s), the last one once
            if (done < total) bars.tick(`${rid}: ${stage}`, { done, total, detail: `${Math.floor(done)}/${total}` });
            else bars.update(`${rid}: ${stage}`, { done, total, detail: `${total}/${total}` });
            if (done >= total && !finished.has(stage)) {
              finished.add(stage);
              bars.log(`${rid}: ${stage} ${total}/${total} (${formatDuration((performance.now() - t0) / 1000)})`);
            }
          },
        });
        summaries.push({ id: rid, title: recipe.title, profile, report: join(dir, 'report.html'), seconds: r.seconds, estimatedSeconds: estimates.get(rid)!.seconds, verdicts: r.checks.map((c) => ({ claim: c.claim, verdict: c.verdict })), trained: r.stats.trained, reused: r.stats.reused });
        indexed.push({ id: rid, title: recipe.title, profile, seconds: r.seconds, checks: r.checks, recipeHash: r.recipeHash, started: r.started, report: `${rid}/report.html` });
        bars.log(`${rid}: ${r.checks.map((c) => c.verdict).join(', ')} (${formatDuration(r.seconds)}; ${r.stats.trained} models trained, ${r.stats.reused} from the cache) → ${join(dir, 'report.html')}`);
      } catch (e) {
        if (ctl.signal.aborted) {
          // say how far the interrupted work got (the recipe's own account is the innermost cause)
          const said = interruptAccount(e);
          if (said !== '') bars.log(`${rid}: ${said}`);
          break;
        }
        // one failing recipe does not stop `all`; a single experiment reports its error
        if (ids.length === 1) throw e;
        const message = isBasisError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
        summaries.push({ id: rid, title: recipe.title, profile, report: null, seconds: (performance.now() - t0) / 1000, estimatedSeconds: estimates.get(rid)!.seconds, verdicts: [], trained: 0, reused: 0, error: message });
        indexed.push({ id: rid, title: recipe.title, profile, seconds: (performance.now() - t0) / 1000, checks: [], error: message });
        bars.log(`${rid}: failed: ${message}`);
      }
    }
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    bars.finish();
    await executor?.close();
  }
  if (ctl.signal.aborted) {
    ctx.info(`interrupted; rerun 'basis reproduce ${target} --profile ${profile}' to resume from the cache in ${cacheDir}`);
    return signalExitCode(stoppedBy ?? 'SIGINT');
  }
  let index: string | undefined;
  if (target === 'all' && indexed.length > 0) {
    index = (await writeIndex(out, indexed)).html;
    ctx.info(`index of every claim: ${index}`);
  }
  ctx.result(target === 'all' ? { out, cache: cacheDir, index: index ?? null, experiments: summaries } : summaries[0], () =>
    formatTable([
      ['experiment', 'verdicts', 'time', 'report'],
      ...summaries.map((s) => [s.id, s.error === undefined ? s.verdicts.map((v) => v.verdict).join(', ') : `failed: ${s.error}`, formatDuration(s.seconds), s.report ?? '-']),
    ]),
  );
  return summaries.some((s) => s.error !== undefined) ? 1 : 0;
}

/** The messages of an interrupt's chain of causes, innermost last (what each level had finished). */
function interruptAccount(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 8; c = (c as { cause?: unknown }).cause, depth++) parts.push(c.message);
  return parts.join(': ');
}

/**
 * Options of the queue executor of `--queue`: progress per job kind (a bar on a terminal; a line
 * whenever the counts change elsewhere).
 */
function queueExecutorOptions(flags: ReproduceFlags, bars: ProgressBars, tty: boolean): QueueExecutorOptions {
  return {
    ...(flags.queue === undefined || flags.queue === '' ? {} : { queue: flags.queue }),
    ...(flags.queueName === undefined ? {} : { name: flags.queueName }),
    onStatus: (kind, st) => {
      const detail = `${st.done}/${st.total} done, ${st.active} running, ${st.waiting} waiting${st.failed > 0 ? `, ${st.failed} failed` : ''}`;
      bars.update(`queue ${kind}`, { done: st.done, total: st.total, detail });
      if (!tty) bars.log(`queue ${kind}: ${detail}`);
    },
  };
}
