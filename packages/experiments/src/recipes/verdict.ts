// The verdict rule every recipe uses (issue 15): a claim is a direction against a null with a
// stated minimum effect size; "held" only when the 95% interval excludes the null in the paper's
// direction by that effect, "not held" when it excludes the null the other way, "inconclusive"
// otherwise, and any estimator warning (non-converged chains, a failed decomposition, an excluded
// condition) forces "inconclusive". Also: a model-level bootstrap for scores of pairs of models
// (pairs that share a model are not independent).
import { BasisError, createRng } from '@basis/tensor';
import type { ClaimCheck, Estimate, Verdict } from './types.js';

/**
 * What a claim says about one estimated quantity.
 * - `above`: the quantity exceeds `null` by at least `effect` (the paper's direction is up);
 * - `below`: the quantity is below `null` by at least `effect`;
 * - `within`: the quantity lies in `[lo, hi]` (an "about equal" or "flat" claim).
 */
export type Rule = { side: 'above' | 'below'; null: number; effect: number } | { side: 'within'; lo: number; hi: number };

/** A verdict with the criterion that produced it and what would change it. */
export interface Judgement {
  verdict: Verdict;
  /** The criterion in words, with the numbers. */
  criterion: string;
  /** What measured change would move the verdict (for the index page). */
  change: string;
  /** Estimator warnings that forced the verdict to inconclusive (empty when none). */
  warnings: string[];
}

const f = (x: number): string => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(4))));

function checkRule(r: Rule): void {
  if (r.side === 'within') {
    if (!Number.isFinite(r.lo) || !Number.isFinite(r.hi) || !(r.lo < r.hi)) throw new BasisError('INVALID_ARGUMENT', `a 'within' rule needs finite lo < hi, got [${r.lo}, ${r.hi}]`);
  } else if (!Number.isFinite(r.null) || !Number.isFinite(r.effect) || r.effect < 0) {
    throw new BasisError('INVALID_ARGUMENT', `an '${r.side}' rule needs a finite null and an effect >= 0, got null ${r.null}, effect ${r.effect}`);
  }
}

/**
 * Judges an estimate against a rule (see {@link Rule}); `warnings` (estimator problems) force
 * `'inconclusive'` and are named in the criterion.
 *
 * @example
 * ```ts
 * judge({ mean: 0.2, lo: 0.12, hi: 0.3, n: 5 }, { side: 'above', null: 0, effect: 0.05 }).verdict; // 'held'
 * judge({ mean: 0.02, lo: -0.1, hi: 0.14, n: 5 }, { side: 'above', null: 0, effect: 0.05 }).verdict; // 'inconclusive'
 * ```
 */
export function judge(e: Estimate, rule: Rule, warnings: readonly string[] = []): Judgement {
  checkRule(rule);
  if (![e.mean, e.lo, e.hi].every(Number.isFinite)) throw new BasisError('NON_FINITE_INPUT', `judge: the estimate is not finite (${e.mean} [${e.lo}, ${e.hi}])`);
  let verdict: Verdict;
  let criterion: string;
  let change: string;
  if (rule.side === 'within') {
    verdict = e.lo >= rule.lo && e.hi <= rule.hi ? 'held' : e.hi < rule.lo || e.lo > rule.hi ? 'not held' : 'inconclusive';
    criterion = `held when the 95% interval lies within [${f(rule.lo)}, ${f(rule.hi)}], not held when it lies entirely outside`;
    change =
      verdict === 'held'
        ? `an interval reaching outside [${f(rule.lo)}, ${f(rule.hi)}] (now [${f(e.lo)}, ${f(e.hi)}])`
        : verdict === 'not held'
          ? `an interval overlapping [${f(rule.lo)}, ${f(rule.hi)}] (now [${f(e.lo)}, ${f(e.hi)}])`
          : `a narrower interval (more seeds): inside [${f(rule.lo)}, ${f(rule.hi)}] → held, disjoint from it → not held (now [${f(e.lo)}, ${f(e.hi)}])`;
  } else {
    const up = rule.side === 'above';
    const target = up ? rule.null + rule.effect : rule.null - rule.effect;
    const by = rule.effect > 0 ? ` by at least ${f(rule.effect)}` : '';
    if (up) verdict = e.lo > target ? 'held' : e.hi < rule.null ? 'not held' : 'inconclusive';
    else verdict = e.hi < target ? 'held' : e.lo > rule.null ? 'not held' : 'inconclusive';
    criterion = `held when the 95% interval lies ${up ? 'above' : 'below'} ${f(rule.null)}${by} (${up ? 'lower' : 'upper'} bound ${up ? '>' : '<'} ${f(target)}), not held when it lies entirely ${up ? 'below' : 'above'} ${f(rule.null)}`;
    const near = up ? e.lo : e.hi;
    const far = up ? e.hi : e.lo;
    change =
      verdict === 'held'
        ? `the ${up ? 'lower' : 'upper'} bound crossing ${f(target)} (now ${f(near)})`
        : verdict === 'not held'
          ? `the ${up ? 'upper' : 'lower'} bound reaching ${f(rule.null)} (now ${f(far)})`
          : `held if the ${up ? 'lower' : 'upper'} bound passed ${f(target)} (now ${f(near)}); not held if the ${up ? 'upper' : 'lower'} bound passed ${f(rule.null)} the other way (now ${f(far)})`;
  }
  if (warnings.length > 0) {
    return { verdict: 'inconclusive', criterion: `${criterion}; forced inconclusive by estimator warnings: ${warnings.join('; ')}`, change: `resolving the warnings (${warnings.join('; ')}), then ${change}`, warnings: [...warnings] };
  }
  if (e.method === 'none' || e.n < 2) {
    // one seed (or fewer than three models for a pair bootstrap) gives no interval, only a range
    // of what was seen: it cannot decide a claim either way
    return {
      verdict: 'inconclusive',
      criterion: `${criterion}; forced inconclusive: no confidence interval from n = ${e.n}`,
      change: `an interval from more independent runs (n = ${e.n} now; ${e.method === 'none' && e.n >= 2 ? 'at least 3 models for pairs' : 'at least 2 seeds'}), then ${change}`,
      warnings: [],
    };
  }
  return { verdict, criterion, change, warnings: [] };
}

/**
 * Combines the judgements of a compound claim (all parts must hold): not held if any part is
 * not held, held if every part holds, inconclusive otherwise; the criteria and changes are joined.
 *
 * @example
 * ```ts
 * const j = judgeAll([judge(a, r1), judge(b, r2)]);
 * ```
 */
export function judgeAll(parts: readonly Judgement[], labels?: readonly string[]): Judgement {
  if (parts.length === 0) throw new BasisError('TOO_SMALL', 'judgeAll needs at least one judgement');
  const vs = parts.map((p) => p.verdict);
  const verdict: Verdict = vs.includes('not held') ? 'not held' : vs.every((v) => v === 'held') ? 'held' : 'inconclusive';
  const name = (i: number): string => (labels?.[i] === undefined ? `part ${i + 1}` : (labels[i] as string));
  // the parts that decide the verdict are the ones whose change matters
  const deciding = parts.map((p, i) => [p, i] as const).filter(([p]) => (verdict === 'held' ? true : p.verdict === verdict));
  return {
    verdict,
    criterion: `every part holds (${parts.map((p, i) => `${name(i)}: ${p.criterion}`).join('; ')})`,
    change: deciding.map(([p, i]) => `${name(i)}: ${p.change}`).join('; '),
    warnings: parts.flatMap((p) => p.warnings),
  };
}

/**
 * A judgement from a fixed (non-interval) condition, e.g. a finite-size bound that either holds
 * or does not: used where a claim is a property of a construction rather than an estimate.
 *
 * @example
 * ```ts
 * judgeFlag(err <= 1e-9, `output error ${err} <= 1e-9`, 'an output error above 1e-9');
 * ```
 */
export function judgeFlag(ok: boolean, criterion: string, change: string, warnings: readonly string[] = []): Judgement {
  if (warnings.length > 0) return { verdict: 'inconclusive', criterion: `${criterion}; forced inconclusive: ${warnings.join('; ')}`, change: `resolving the warnings (${warnings.join('; ')})`, warnings: [...warnings] };
  return { verdict: ok ? 'held' : 'not held', criterion, change, warnings: [] };
}

/**
 * Mean and 95% interval of a score measured on pairs of models, by a model-level bootstrap:
 * models are resampled with replacement and the mean over the pairs of distinct resampled
 * models (weighted by multiplicity) is recorded, so pairs that share a model are not treated as
 * independent. `n` of the result is the number of models.
 *
 * @example
 * ```ts
 * pairBootstrap([0.5, 0.6, 0.55], [[0, 1], [0, 2], [1, 2]], 3);
 * ```
 */
export function pairBootstrap(values: readonly number[], pairList: ReadonlyArray<readonly [number, number]>, models: number, seed = 0, resamples = 2000): Estimate {
  if (values.length !== pairList.length) throw new BasisError('SHAPE_MISMATCH', `pairBootstrap: ${values.length} values for ${pairList.length} pairs`);
  if (values.length === 0) throw new BasisError('TOO_SMALL', 'pairBootstrap: no pairs');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new BasisError('NON_FINITE_INPUT', `pairBootstrap: value ${i} is ${v}`);
  });
  for (const [a, b] of pairList) if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0 && a < models && b < models && a !== b)) throw new BasisError('INVALID_ARGUMENT', `pairBootstrap: pair (${a}, ${b}) is not two distinct models of 0..${models - 1}`);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  if (models < 3) return { mean, lo: Math.min(...values), hi: Math.max(...values), n: models, method: 'none' };
  const rng = createRng(`pairBootstrap:${seed}`);
  const stats: number[] = [];
  const count = new Float64Array(models);
  for (let b = 0; b < resamples; b++) {
    count.fill(0);
    for (let k = 0; k < models; k++) count[rng.int(models)]! += 1;
    let sw = 0;
    let s = 0;
    for (let p = 0; p < pairList.length; p++) {
      const [i, j] = pairList[p]!;
      const w = count[i]! * count[j]!;
      if (w > 0) {
        sw += w;
        s += w * values[p]!;
      }
    }
    if (sw > 0) stats.push(s / sw);
  }
  stats.sort((x, y) => x - y);
  const q = (p: number): number => stats[Math.min(stats.length - 1, Math.max(0, Math.floor(p * (stats.length - 1))))]!;
  return { mean, lo: Math.min(q(0.025), mean), hi: Math.max(q(0.975), mean), n: models, method: 'bootstrap95' };
}

/** A short note put into every quick-profile report: the profile is too small to decide. */
export const QUICK_CAVEAT = 'Profile quick: a CI smoke run (few seeds, short training, small data); its intervals are too wide, and its models too undertrained, to decide the paper\'s claims. Read the standard profile\'s report for verdicts.';

/**
 * A claim check from a judgement: the criterion is appended to `measured` and recorded with what
 * would change the verdict and any warnings.
 *
 * @example
 * ```ts
 * const j = judge(gain, { side: 'above', null: 0, effect: 0.01 });
 * checkOf({ claim: 'x improves', paper: '', measured: `gain ${formatEstimate(gain)}`, estimates: { gain }, primary: 'gain' }, j);
 * ```
 */
export function checkOf(base: Omit<ClaimCheck, 'verdict' | 'criterion' | 'change' | 'warnings'>, j: Judgement): ClaimCheck {
  return { ...base, measured: `${base.measured} Criterion: ${j.criterion}.`, verdict: j.verdict, criterion: j.criterion, change: j.change, ...(j.warnings.length > 0 ? { warnings: j.warnings } : {}) };
}
