// Run-time estimates of recipe runs, before they start (issue 15). A recipe's work is read off its
// configuration in two kinds, by the same rules for every recipe:
// - training: for every family of models in the configuration (an object with `data`, `train` and a
//   `model` or `widths`; or the configuration itself), models x epochs x training examples x the
//   forward-and-backward cost of one example (about 3 forward passes);
// - analysis: pairs of models x evaluation inputs x the forward cost of one example (what the
//   recipes do after training: activations, alignments, stitching, interpolation, per pair), times
//   the stitching epochs, spawn points or slopes the recipe loops over.
// The seconds per unit of each kind are fitted to the committed gallery runs (their recorded run
// times, `timings.ts`), and each recipe keeps the ratio of its own recorded run to the fit, so a
// recipe's estimate at the profile it was recorded at is its recorded time. Recipes whose work is
// not models (V001-1, V001-3) have their own counts below.
import { BasisError, threadBudget } from '@basis/tensor';
import { RECIPE_REGISTRY } from '../recipes/index.js';
import type { Profile } from '../recipes/types.js';
import type { RecordedTiming } from '../recipes/types.js';
import { RECORDED_TIMINGS } from './timings.js';

/** Work of one recipe run in the two kinds the estimate counts (gigaflop-like units). */
export interface RecipeWork {
  /** Training: models x epochs x examples x 3 x forward cost, in 1e9 units. */
  train: number;
  /** Analysis: pairs x inputs x forward cost x loops, in 1e9 units. */
  analysis: number;
  /** Models the run trains (with an empty cache). */
  models: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const count = (v: unknown, d: number): number => (Array.isArray(v) ? v.length : num(v, d));

/** Forward cost of one example (multiply-adds x 2) of a zoo model spec on 28 x 28 inputs, 10 classes. */
export function forwardFlops(model: unknown, inputDim = 784, classes = 10): number {
  const m = isObj(model) ? model : {};
  const arch = typeof m['arch'] === 'string' ? m['arch'] : 'mlp';
  const w = num(m['width'], 256);
  const d = num(m['depth'], 3);
  if (arch === 'mlp') return 2 * (inputDim * w + Math.max(0, d - 1) * w * w + w * classes);
  if (arch === 'resmlp') return 2 * (inputDim * w + 2 * d * w * w + w * classes);
  // convolutional nets (MiniMyrtle and kin): 3 x 3 convolutions at 28, 14, 7 pixels with c, 2c, 4c channels
  const c = num(m['channels'], num(m['width'], 16));
  return 2 * (784 * 9 * c + 196 * 9 * c * 2 * c + 49 * 9 * 2 * c * 4 * c + 4 * c * classes);
}

interface Family {
  models: number;
  epochs: number;
  trainSize: number;
  evalInputs: number;
  flops: number;
}

/** The families of models a configuration trains (see the file comment). */
function families(config: Obj): Family[] {
  const out: Family[] = [];
  const visit = (o: Obj, inherited: { inputs: number }): void => {
    const inputs = num(o['inputs'], num(o['testInputs'], inherited.inputs));
    const data = isObj(o['data']) ? o['data'] : null;
    const train = isObj(o['train']) ? o['train'] : null;
    // the models: `model`, a list `models`, a list `widths` (MLPs of `depth`), or one MLP of `width` and `depth`
    const specs: unknown[] = isObj(o['model'])
      ? [o['model']]
      : Array.isArray(o['models'])
        ? (o['models'] as unknown[])
        : Array.isArray(o['widths'])
          ? (o['widths'] as unknown[]).map((w) => ({ arch: 'mlp', width: num(w, 64), depth: num(o['depth'], 3) }))
          : typeof o['width'] === 'number'
            ? [{ arch: 'mlp', width: o['width'], depth: num(o['depth'], 3) }]
            : [];
    if (data !== null && train !== null && specs.length > 0) {
      const seeds = count(o['seeds'], 3);
      // fine-tuning runs (E000-2's conditions, E003-1's trials) train again for their epochs
      const ft = isObj(o['fineTune']) ? o['fineTune'] : isObj(o['finetune']) ? o['finetune'] : null;
      const epochs = num(train['epochs'], 1) + (ft === null ? 0 : num(ft['epochs'], 1));
      for (const spec of specs) {
        out.push({ models: seeds * count(o['trunks'], 1), epochs, trainSize: num(data['trainSize'], 60000), evalInputs: Math.min(inputs, num(data['testSize'], 10000)), flops: forwardFlops(spec) });
      }
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'data' && k !== 'train' && k !== 'model' && k !== 'fineTune' && k !== 'finetune' && isObj(v)) visit(v, { inputs });
  };
  visit(config, { inputs: num(config['inputs'], 1000) });
  return out;
}

/**
 * The work of a recipe run with configuration `config` (see the file comment for what is counted).
 *
 * @example
 * ```ts
 * recipeWork('E003-2', getRecipe('E003-2').profiles.quick); // { train: ..., analysis: ..., models: 3 }
 * ```
 */
export function recipeWork(id: string, config: unknown): RecipeWork {
  if (!isObj(config)) throw new BasisError('CONFIG_INVALID', `recipeWork: the configuration of ${id} must be an object`);
  const c = config;
  if (id === 'V001-1') {
    // Monte-Carlo checks: samples x directions dominate
    const seeds = count(c['seeds'], 3);
    return { train: 0, analysis: (seeds * (num(c['samples'], 1e5) * 50 + num(c['directions'], 1e4) * num(c['draws'], 1e3) * 5)) / 1e9, models: 0 };
  }
  if (id === 'V001-3') {
    // SGLD: per model and n beta, chains x (draws + burn-in) full-batch gradients of a one-hidden-layer MLP
    const dim = num(c['dim'], 8);
    const classes = num(c['classes'], 3);
    const n = num(c['n'], 500);
    const seeds = count(c['seeds'], 3);
    const per = (w: number): number => 6 * n * (dim * w + w * classes);
    const widths = Array.isArray(c['widths']) ? (c['widths'] as unknown[]).map((w) => num(w, 8)) : [8];
    const sgld = widths.reduce((s, w) => s + seeds * count(c['nBetaFactors'], 3) * num(c['chains'], 4) * 1.2 * num(c['draws'], 1000) * per(w), 0);
    const fit = widths.reduce((s, w) => s + seeds * num(c['epochs'], 60) * per(w), 0);
    return { train: fit / 1e9, analysis: sgld / 1e9, models: 0 };
  }
  const fams = families(c);
  if (fams.length === 0) return { train: 0, analysis: 1, models: 0 };
  // loops of the analysis over settings: stitching classes x epochs, slopes, spawn points, conditions
  const stitching = isObj(c['stitching']) ? c['stitching'] : null;
  const loops =
    (stitching === null ? 1 : count(stitching['classes'], 2) * (1 + num(stitching['epochs'], 1) * num(stitching['trainInputs'], 2000) / Math.max(1, num(stitching['testInputs'], 1000)))) *
    count(c['slopes'], 1) *
    count(c['alphas'], 1) *
    count(c['conditions'], 1) *
    Math.max(1, count(c['layers'], 1));
  let train = 0;
  let analysis = 0;
  let models = 0;
  for (const f of fams) {
    // slopes re-train the family at every slope
    const copies = f === fams[0] ? count(c['slopes'], 1) : 1;
    train += (copies * f.models * f.epochs * f.trainSize * 3 * f.flops) / 1e9;
    models += copies * f.models;
    const pairs = (f.models * (f.models - 1)) / 2;
    analysis += (Math.max(1, pairs) * f.evalInputs * f.flops * loops) / 1e9;
  }
  if (Array.isArray(c['spawnEpochs'])) {
    // spawned pairs: parents x spawn points x (2 children + 1 parent), each trained for (part of) the family's epochs
    const f = fams[0]!;
    const k = (c['spawnEpochs'] as unknown[]).length;
    const parents = num(c['parents'], 3);
    train += (k * parents * 3 * f.epochs * f.trainSize * 3 * f.flops) / 1e9;
    models += k * parents * 3;
    analysis += (k * parents * num(c['inputs'], 1000) * f.flops * 11) / 1e9;
  }
  return { train, analysis, models };
}

/** The fitted cost model: seconds per unit of each kind, the fixed start-up, and each recipe's ratio. */
export interface CostModel {
  /** Seconds per training unit (at `threads` threads). */
  train: number;
  /** Seconds per analysis unit. */
  analysis: number;
  /** Fixed seconds per run (start-up, data loading, worker start, report). */
  overhead: number;
  /** Threads the recorded runs had. */
  threads: number;
  /** Per recipe: recorded seconds over the fitted seconds (1 when the recipe has no recorded run). */
  ratio: Record<string, number>;
  /** Per recipe: the ratio that applies to its training (its `ratio`, or 1 when its recorded run trained no model). */
  trainRatio: Record<string, number>;
  /** How many recorded runs the fit used, and their log-error spread. */
  runs: number;
  /** Largest factor between a recorded run and the fit without the per-recipe ratio. */
  worstFactor: number;
}

const OVERHEAD = 6;

function workOf(t: RecordedTiming): RecipeWork | null {
  const recipe = RECIPE_REGISTRY[t.id];
  if (recipe === undefined) return null;
  try {
    return recipeWork(t.id, recipe.checkConfig(t.config));
  } catch {
    return null;
  }
}

let fitted: CostModel | undefined;

/**
 * The cost model fitted to the recorded runs (`RECORDED_TIMINGS`: the committed gallery reports'
 * run times; models reused from a shared cache are not counted as trained). The two rates are the
 * least-squares fit of log seconds over a grid; each recipe's ratio (kept within [1/4, 4]) corrects
 * its estimate.
 *
 * @example
 * ```ts
 * costModel().ratio['E003-2']; // recorded / fitted seconds of E003-2
 * ```
 */
export function costModel(timings: readonly RecordedTiming[] = RECORDED_TIMINGS): CostModel {
  if (timings === RECORDED_TIMINGS && fitted !== undefined) return fitted;
  const rows = timings
    .map((t) => ({ t, w: workOf(t) }))
    .filter((r): r is { t: RecordedTiming; w: RecipeWork } => r.w !== null && r.t.seconds > OVERHEAD);
  const predict = (a: number, b: number, t: RecordedTiming, w: RecipeWork): number => {
    const trainedShare = w.models === 0 || t.trained + t.reused === 0 ? 1 : t.trained / (t.trained + t.reused);
    return OVERHEAD + a * w.train * trainedShare + b * w.analysis;
  };
  let best = { a: 1, b: 1, err: Infinity };
  if (rows.length > 0) {
    for (let i = -40; i <= 40; i++) {
      for (let j = -40; j <= 40; j++) {
        const a = 10 ** (i / 8);
        const b = 10 ** (j / 8);
        let err = 0;
        for (const { t, w } of rows) err += Math.log(predict(a, b, t, w) / t.seconds) ** 2;
        if (err < best.err) best = { a, b, err };
      }
    }
  }
  const ratio: Record<string, number> = {};
  const trainRatio: Record<string, number> = {};
  let worst = 1;
  for (const { t, w } of rows) {
    const p = predict(best.a, best.b, t, w);
    const r = (t.seconds - OVERHEAD) / Math.max(1e-9, p - OVERHEAD);
    worst = Math.max(worst, t.seconds / p, p / t.seconds);
    ratio[t.id] = Math.min(4, Math.max(0.25, r));
    // a run that reused all its models says nothing about the recipe's training
    trainRatio[t.id] = t.trained > 0 || w.models === 0 ? ratio[t.id]! : 1;
  }
  const threads = rows.length === 0 ? 2 : Math.max(1, Math.round(rows.reduce((s, r) => s + r.t.threads, 0) / rows.length));
  const out: CostModel = { train: best.a, analysis: best.b, overhead: OVERHEAD, threads, ratio, trainRatio, runs: rows.length, worstFactor: worst };
  if (timings === RECORDED_TIMINGS) fitted = out;
  return out;
}

/** What {@link estimateRunTime} returns. */
export interface RunTimeEstimate {
  id: string;
  profile: Profile;
  /** Estimated wall-clock seconds with an empty cache. */
  seconds: number;
  /** Of `seconds`: training models and the recipe's analysis. */
  trainSeconds: number;
  analysisSeconds: number;
  /** Models the run trains (with an empty cache). */
  models: number;
  /** Whether the recipe's own recorded run calibrated the estimate (else only the shared fit did). */
  calibrated: boolean;
}

/**
 * The estimated wall time of `basis reproduce <id> --profile <profile>` with an empty cache, from
 * the {@link costModel} fitted to the recorded gallery runs. Training scales with the thread budget
 * (`threads`, default the engine's). Models already in the cache make a run faster.
 *
 * @example
 * ```ts
 * const e = estimateRunTime('E003-2', 'standard');
 * console.log(`about ${Math.round(e.seconds / 60)} min`);
 * ```
 */
export function estimateRunTime(id: string, profile: Profile, opts: { config?: unknown; threads?: number; model?: CostModel } = {}): RunTimeEstimate {
  const recipe = RECIPE_REGISTRY[id];
  if (recipe === undefined) throw new BasisError('CONFIG_INVALID', `no experiment '${id}'`);
  if (profile !== 'quick' && profile !== 'standard' && profile !== 'full') throw new BasisError('CONFIG_INVALID', `profile must be quick, standard or full, got ${String(profile)}`);
  const config = opts.config ?? recipe.checkConfig(recipe.profiles[profile]);
  const w = recipeWork(id, config);
  const m = opts.model ?? costModel();
  const threads = opts.threads ?? threadBudget();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new BasisError('CONFIG_INVALID', `threads must be a positive integer, got ${String(threads)}`);
  const r = m.ratio[id];
  const k = r ?? 1;
  // training runs one model per worker thread: fewer threads than the recorded runs had is slower
  const parallel = w.models === 0 ? 1 : Math.min(m.threads, Math.max(1, w.models)) / Math.min(threads, Math.max(1, w.models));
  const trainSeconds = (m.trainRatio[id] ?? k) * m.train * w.train * parallel;
  const analysisSeconds = k * m.analysis * w.analysis;
  return { id, profile, seconds: m.overhead + trainSeconds + analysisSeconds, trainSeconds, analysisSeconds, models: w.models, calibrated: r !== undefined };
}

/**
 * `~12 min` / `~40 s` / `~2.1 h`: an estimate for a progress line.
 *
 * @example
 * ```ts
 * formatEstimateSeconds(725); // '~12 min'
 * ```
 */
export function formatEstimateSeconds(s: number): string {
  if (!(s >= 0)) return '?';
  if (s < 90) return `~${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `~${Math.round(s / 60)} min`;
  return `~${(s / 3600).toFixed(1)} h`;
}
