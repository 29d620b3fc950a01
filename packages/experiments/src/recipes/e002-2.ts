// E002-2 (S002 Fig. 2): inter-model comparisons — every layer of one architecture against every
// layer of another (Procrustes and soft matching), and whether the best matches follow depth.
import { finite, integer, object, type Schema } from '@basis/tensor';
import { ModelSpecSchema, type ModelSpec } from '@basis/zoo';
import { heatmap, type Figure } from '../report.js';
import { crossCheck, listOfAtLeast, recipeConfig } from '../runner/check.js';
import { estimate, formatEstimate } from '../runner/estimate.js';
import { FULL_DATA, FULL_TRAIN, QUICK_DATA, QUICK_TRAIN, STANDARD_DATA, STANDARD_SEEDS, STANDARD_TRAIN, activationCache, activationPoints, archIn, baseEntries, evalSet, inputsFit, job, meanOf, pairs, type BaseConfig } from './common.js';
import { bothWays } from './e002-1.js';
import type { CachedModel, ClaimCheck, ExperimentRecipe, RecipeResult } from './types.js';
import { checkOf, judge } from './verdict.js';

/** Configuration of E002-2. */
export interface E0022Config extends BaseConfig {
  /** Different architectures (at least 2); every pair of them is compared, seed by seed. */
  models: ModelSpec[];
  /** Minimum depth-consistency gain (chance depth error − observed) for "consistent correspondences". */
  minGain: number;
}

/** What E002-2 measured: the layer × layer score matrices (hidden layers only, no logits) of each architecture pair, with the seed they come from. */
export interface E0022Measured {
  results: Array<{ seed: number; matrices: Record<string, number[][]> }>;
}

/**
 * The verdicts of E002-2 (pure). Each seed's models are independent of the other seeds', so the
 * interval is a t interval over seeds of the per-seed mean gain (architecture pairs of one seed
 * share models and are averaged first).
 *
 * @example
 * ```ts
 * decideE0022({ results: [{ seed: 0, matrices: { 'procrustes.cv': M, softmatch: M } }, ...] }, { minGain: 0.02 });
 * ```
 */
export function decideE0022(m: E0022Measured, c: Pick<E0022Config, 'minGain'>): ClaimCheck[] {
  const seeds = [...new Set(m.results.map((r) => r.seed))];
  return METRICS.map((id) => {
    const cons = m.results.map((r) => ({ seed: r.seed, ...depthConsistency(r.matrices[id]!) }));
    const perSeed = seeds.map((s) => meanOf(cons.filter((x) => x.seed === s).map((x) => x.gain)));
    const gain = estimate(perSeed, `${id} depth consistency`);
    const j = judge(gain, { side: 'above', null: 0, effect: c.minGain });
    return checkOf(
      {
        claim: `Different architectures show consistent layer correspondences (${id === 'softmatch' ? 'soft matching' : 'Procrustes'}): each hidden layer's best match in the other network sits at a similar relative depth.`,
        paper: `S002 Fig. 2 (${id === 'softmatch' ? 'bottom' : 'top'}): consistent layer correspondences between CNNs of different architectures; row and column maxima plotted.`,
        measured: `Mean |relative depth − relative depth of the row/column maximum| over hidden layers (the logits are excluded: they match each other trivially): observed ${meanOf(cons.map((x) => x.observed)).toFixed(3)} against ${meanOf(cons.map((x) => x.chance)).toFixed(3)} for a random choice; gain ${formatEstimate(gain)} (t interval over ${seeds.length} independent seeds).`,
        estimates: { depthConsistencyGain: gain },
        primary: 'depthConsistencyGain',
      },
      j,
    );
  });
}

const METRICS = ['procrustes.cv', 'softmatch'] as const;

/**
 * The schema of {@link E0022Config} (its messages start with `E002-2`): no more inputs than the
 * test set has, at least two different MLP or residual MLP architectures.
 */
export const E0022ConfigSchema: Schema<E0022Config> = crossCheck(
  object({ ...baseEntries(1), inputs: integer(50), models: listOfAtLeast(ModelSpecSchema, 'model specs', 2, 'architectures'), minGain: finite({ ge: 0, le: 1 }) }),
  (c) => {
    const fits = inputsFit('E002-2')(c);
    if (fits !== null) return fits;
    const seen = new Set<string>();
    for (const [i, m] of c.models.entries()) {
      const arch = archIn(m, ['mlp', 'resmlp'], ['models', i]);
      if (arch !== null) return arch;
      const k = JSON.stringify(m);
      if (seen.has(k)) return { at: ['models', i], message: 'repeats an earlier architecture; list different ones' };
      seen.add(k);
    }
    return null;
  },
);

const label = (m: ModelSpec): string => `${m.arch} ${Array.isArray(m.width) ? m.width.join('-') : String(m.width ?? '')}x${m.depth ?? ''}`;

/**
 * Depth consistency of a layer × layer score matrix: for every row (and column) the best match's
 * normalised depth is compared with its own; returns the chance expectation of the depth error
 * minus the observed one (> 0 when best matches follow depth).
 */
export function depthConsistency(M: number[][]): { observed: number; chance: number; gain: number } {
  const R = M.length;
  const C = M[0]!.length;
  const dr = (i: number): number => (i + 1) / R;
  const dc = (j: number): number => (j + 1) / C;
  const errs: number[] = [];
  const chance: number[] = [];
  for (let i = 0; i < R; i++) {
    const row = M[i]!;
    const j = row.indexOf(Math.max(...row));
    errs.push(Math.abs(dr(i) - dc(j)));
    chance.push(meanOf(Array.from({ length: C }, (_, k) => Math.abs(dr(i) - dc(k)))));
  }
  for (let j = 0; j < C; j++) {
    const col = M.map((r) => r[j]!);
    const i = col.indexOf(Math.max(...col));
    errs.push(Math.abs(dc(j) - dr(i)));
    chance.push(meanOf(Array.from({ length: R }, (_, k) => Math.abs(dc(j) - dr(k)))));
  }
  const observed = meanOf(errs);
  const ch = meanOf(chance);
  return { observed, chance: ch, gain: ch - observed };
}

async function run(ctx: Parameters<ExperimentRecipe['run']>[0], c: E0022Config): Promise<RecipeResult> {
  const seeds = Array.from({ length: c.seeds }, (_, s) => ctx.seed + s);
  const all = await ctx.models(c.models.flatMap((m) => seeds.map((s) => job(c.data, m, c.train, s, `E002-2 ${label(m)} seed ${s}`))));
  const byArch: CachedModel[][] = c.models.map((_, a) => all.slice(a * c.seeds, (a + 1) * c.seeds));
  const ev = await evalSet(c.data, c.inputs);
  const archPairs = pairs(c.models.length);
  const results: Array<{ a: number; b: number; seed: number; points: [string[], string[]]; matrices: Record<string, number[][]> }> = [];
  try {
    const cache = new Map<number, ReturnType<typeof activationCache>>();
    const acts = (arch: number): ReturnType<typeof activationCache> => {
      let f = cache.get(arch);
      if (f === undefined) {
        f = activationCache(ev.x, activationPoints(byArch[arch]![0]!.graph));
        cache.set(arch, f);
      }
      return f;
    };
    let done = 0;
    const total = archPairs.length * c.seeds;
    for (const [a, b] of archPairs) {
      for (const [s, seed] of seeds.entries()) {
        const A = byArch[a]![s]!;
        const B = byArch[b]![s]!;
        const pa = activationPoints(A.graph);
        const pb = activationPoints(B.graph);
        const matrices = await ctx.cached({ what: 'inter-model', a: A.key, b: B.key, pa, pb, inputs: c.inputs, data: c.data, metrics: METRICS }, async () => {
          const [xa, xb] = [await acts(a)(A), await acts(b)(B)];
          const out: Record<string, number[][]> = {};
          for (const m of METRICS) out[m] = pa.map((p) => pb.map((q) => bothWays(m, xa[p]!, xb[q]!)));
          return out;
        });
        results.push({ a, b, seed, points: [pa, pb], matrices });
        ctx.progress('pairs compared', ++done, total);
      }
    }
  } finally {
    ev.dispose();
  }
  const figures: Figure[] = [];
  for (const r of results.filter((x) => x.seed === seeds[0])) {
    for (const m of METRICS) {
      const rows = r.points[0].flatMap((p, i) => r.points[1].map((q, j) => ({ a: p, b: q, value: r.matrices[m]![i]![j]! })));
      const name = `${label(c.models[r.a]!)} vs ${label(c.models[r.b]!)}`;
      figures.push({ id: `heatmap-${m}-${r.a}-${r.b}`, title: `${m}: ${name}`, caption: `Every post-activation (hidden) layer of ${label(c.models[r.a]!)} (rows) against ${label(c.models[r.b]!)} (columns), seed ${r.seed}; mean of both directions.`, spec: heatmap(rows, { a: label(c.models[r.a]!), b: label(c.models[r.b]!), title: `${m}`, order: [...r.points[0], ...r.points[1]] }), rows });
    }
  }
  const cons = Object.fromEntries(METRICS.map((m) => [m, results.map((r) => depthConsistency(r.matrices[m]!))])) as Record<(typeof METRICS)[number], ReturnType<typeof depthConsistency>[]>;
  const checks = decideE0022({ results }, c);
  return {
    checks,
    figures,
    tables: [
      {
        id: 'depth-consistency',
        title: 'Depth consistency per model pair',
        caption: 'Mean depth error of row and column maxima (lower = better correspondence) and its chance level.',
        columns: ['model A', 'model B', 'seed', ...METRICS.flatMap((m) => [`${m} error`, `${m} chance`])],
        rows: results.map((r, k) => [label(c.models[r.a]!), label(c.models[r.b]!), r.seed, ...METRICS.flatMap((m) => [cons[m][k]!.observed, cons[m][k]!.chance])]),
      },
    ],
    notes: [
      'Layers: every post-activation (hidden) layer; the 10-class logits are excluded (they match each other trivially and made earlier reports hold on them alone); relative depth = position / number of layers of that network. The row (column) maximum is the layer of the other network with the highest score.',
      'procrustes.cv zero-pads the narrower representation (seeds-spec M3a); softmatch (M5) handles different widths by optimal transport and is computed in-sample.',
      'S002 compares dozens of ImageNet CNNs and ViTs; here MLPs of different widths and depths stand in (seeds-spec 2.3 marks this experiment R-partial). Architecture pairs of one seed share models, so gains are averaged per seed and the interval is over independent seeds.',
    ],
    data: { models: c.models, results, consistency: cons },
  };
}


/** E002-2: inter-model comparisons (S002 Fig. 2). */
export const e002_2: ExperimentRecipe<E0022Config> = {
  id: 'E002-2',
  title: 'Inter-model layer correspondences',
  source: 'S002 (convergent learning), Fig. 2',
  profiles: {
    quick: {
      data: QUICK_DATA,
      train: QUICK_TRAIN,
      seeds: 1,
      inputs: 800,
      models: [
        { arch: 'mlp', width: 32, depth: 2 },
        { arch: 'mlp', width: 64, depth: 3 },
        { arch: 'mlp', width: 128, depth: 4 },
      ],
      minGain: 0.02,
    },
    standard: {
      data: STANDARD_DATA,
      train: STANDARD_TRAIN,
      seeds: STANDARD_SEEDS,
      inputs: 2000,
      models: [
        { arch: 'mlp', width: 128, depth: 2 },
        { arch: 'mlp', width: 256, depth: 3 },
        { arch: 'mlp', width: 512, depth: 4 },
      ],
      minGain: 0.02,
    },
    full: {
      data: FULL_DATA,
      train: FULL_TRAIN,
      seeds: 3,
      inputs: 2000,
      models: [
        { arch: 'mlp', width: 64, depth: 2 },
        { arch: 'mlp', width: 128, depth: 3 },
        { arch: 'mlp', width: 256, depth: 4 },
        { arch: 'resmlp', width: 128, depth: 3 },
      ],
      minGain: 0.02,
    },
  },
  ...recipeConfig(E0022ConfigSchema, 'E002-2'),
  run,
};
