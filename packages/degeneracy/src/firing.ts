// D6: firing patterns, synchronised blocks (exact and approximate), dead / always-on units.
import { BasisError, Matrix, rank } from '@basis/tensor';
import { checkMatrix, checkOpt, checkEnum } from './util.js';

/** Options of {@link firingPatterns}. */
export interface FiringOptions {
  /** Nonlinearity of the layer (default 'relu'); leaky_relu gates are in {slope, 1}. */
  activation?: 'relu' | 'leaky_relu';
  /** Negative slope of leaky_relu (default 0.01). */
  slope?: number;
  /** Relative rank tolerance for the block ranks s_a (default 1e-9 of the largest singular value). */
  rankTol?: number;
}

/** One synchronised block. */
export interface SyncBlock {
  /** Unit indices (ascending). */
  readonly units: number[];
  /** `'dead'` (gate 0 everywhere, ReLU), `'always-on'` (gate 1 everywhere) or `'mixed'`. */
  readonly kind: 'dead' | 'always-on' | 'mixed';
  /** `s_a`: numerical rank of the block's preactivations as functions on D. */
  readonly rank: number;
}

/** Result of {@link firingPatterns}. */
export interface FiringReport {
  readonly n: number;
  readonly d: number;
  /** Gates `r(x)` (`n x d`): `f/p`, or 1 where `p = 0`. */
  readonly gates: Matrix;
  readonly blocks: SyncBlock[];
  readonly dead: number[];
  readonly alwaysOn: number[];
  /** Σ_a |S_a|² (free directions when W^l has full rank). */
  readonly sumSizeSquared: number;
  /** Σ_a s_a² (S001 eq. 21-22). */
  readonly sumRankSquared: number;
  /** Σ_a s_a² − d^{l+1} (non-generic excess, exact when s_a = |S_a|). */
  readonly excess: number;
  /** Σ_a s_a² − Σ_a s_a (the general-case excess, OPEN in the spec). */
  readonly excessByRank: number;
}

function gatesOf(P: Matrix, act: 'relu' | 'leaky_relu', slope: number): Matrix {
  const R = new Matrix(P.rows, P.cols);
  for (let k = 0; k < P.data.length; k++) R.data[k] = (P.data[k] as number) >= 0 ? 1 : act === 'relu' ? 0 : slope;
  return R;
}

function blockRank(P: Matrix, units: number[], tol: number): number {
  const B = new Matrix(units.length, P.rows);
  units.forEach((u, a) => {
    for (let r = 0; r < P.rows; r++) B.data[a * P.rows + r] = P.data[r * P.cols + u] as number;
  });
  let any = false;
  for (const v of B.data) if (v !== 0) any = true;
  return any ? rank(B, { rtol: tol }) : 0;
}

/**
 * Firing patterns of a (leaky) ReLU layer from its preactivations `P` (`n x d`, rows = inputs)
 * and the exact synchronised blocks (units with identical gates on every input, found by hashing
 * the gate vectors), dead and always-on units, block ranks `s_a` and the counts of S001 eqs. 21-22.
 *
 * @example
 * ```ts
 * const rep = firingPatterns(P); // P: n x d preactivations
 * rep.blocks.filter((b) => b.units.length > 1); // synchronised groups
 * rep.sumRankSquared;
 * ```
 */
export function firingPatterns(P: Matrix, opts: FiringOptions = {}): FiringReport {
  checkEnum(opts.activation, 'activation', ['relu', 'leaky_relu']);
  checkOpt(opts.slope, 'slope', (v) => Number.isFinite(v) && v !== 1, 'a finite number other than 1');
  checkOpt(opts.rankTol, 'rankTol', (v) => v >= 0, 'a non-negative number');
  checkMatrix(P, 'P');
  const act = opts.activation ?? 'relu';
  const slope = opts.slope ?? 0.01;
  const R = gatesOf(P, act, slope);
  const n = P.rows;
  const d = P.cols;
  const groups = new Map<string, number[]>();
  for (let i = 0; i < d; i++) {
    let key = '';
    for (let r = 0; r < n; r++) key += (R.data[r * d + i] as number) === 1 ? '1' : '0';
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [i]);
    else g.push(i);
  }
  const tol = opts.rankTol ?? 1e-9;
  const blocks: SyncBlock[] = [];
  const dead: number[] = [];
  const alwaysOn: number[] = [];
  for (const [key, units] of groups) {
    const kind: SyncBlock['kind'] = !key.includes('0') ? 'always-on' : !key.includes('1') ? 'dead' : 'mixed';
    if (kind === 'dead') dead.push(...units);
    if (kind === 'always-on') alwaysOn.push(...units);
    blocks.push({ units, kind, rank: blockRank(P, units, tol) });
  }
  blocks.sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
  const sumSizeSquared = blocks.reduce((s, b) => s + b.units.length ** 2, 0);
  const sumRankSquared = blocks.reduce((s, b) => s + b.rank ** 2, 0);
  const sumRank = blocks.reduce((s, b) => s + b.rank, 0);
  return {
    n,
    d,
    gates: R,
    blocks,
    dead: dead.sort((a, b) => a - b),
    alwaysOn: alwaysOn.sort((a, b) => a - b),
    sumSizeSquared,
    sumRankSquared,
    excess: sumRankSquared - d,
    excessByRank: sumRankSquared - sumRank,
  };
}

/**
 * Approximate-synchronisation measure `|r_a|²` of a block (S001 eq. 20, ERRATA 0.5 item 10):
 * `'corrected'` (default) `(1/n) Σ_x Σ_{i,i'} ((r_i − r_{i'}) p_i)²`, the squared change of
 * unit i's output if it used unit i′'s gate; `'literal'` `(1/n) Σ_x Σ_{i,i'} (r_i p_i − r_i p_{i'})²`
 * as printed.
 *
 * @example
 * ```ts
 * syncResidual(P, [0, 3]);            // 0 for exactly synchronised units
 * syncResidual(P, [0, 3], 'literal');
 * ```
 */
export function syncResidual(P: Matrix, units: readonly number[], form: 'corrected' | 'literal' = 'corrected', opts: FiringOptions = {}): number {
  checkEnum(form, 'form', ['corrected', 'literal']);
  checkMatrix(P, 'P');
  for (const u of units) if (!Number.isInteger(u) || u < 0 || u >= P.cols) throw new BasisError('INVALID_ARGUMENT', `unit ${u} is outside 0..${P.cols - 1}`);
  const R = gatesOf(P, opts.activation ?? 'relu', opts.slope ?? 0.01);
  const n = P.rows;
  const d = P.cols;
  let s = 0;
  for (let r = 0; r < n; r++) {
    for (const i of units) {
      const ri = R.data[r * d + i] as number;
      const pi = P.data[r * d + i] as number;
      for (const j of units) {
        const v = form === 'corrected' ? (ri - (R.data[r * d + j] as number)) * pi : ri * pi - ri * (P.data[r * d + j] as number);
        s += v * v;
      }
    }
  }
  return s / n;
}

/** An approximate block: its units, the largest within-block gate disagreement and |r_a|². */
export interface ApproxBlock {
  readonly units: number[];
  /** Largest normalised Hamming distance between two gate vectors of the block. */
  readonly diameter: number;
  readonly residual: number;
  readonly residualLiteral: number;
}

/**
 * Approximate synchronised blocks: complete-linkage agglomerative clustering of the gate vectors
 * under the normalised Hamming distance, merging while the block diameter stays at or below
 * `tau` (default 0.01), with `|r_a|²` per block in both forms. `tau = 0` gives the exact blocks.
 *
 * @example
 * ```ts
 * approximateSyncBlocks(P, { tau: 0.05 }).filter((b) => b.units.length > 1);
 * ```
 */
export function approximateSyncBlocks(P: Matrix, opts: FiringOptions & { tau?: number } = {}): ApproxBlock[] {
  checkOpt(opts.tau, 'tau', (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
  const rep = firingPatterns(P, opts);
  const R = rep.gates;
  const n = R.rows;
  const d = R.cols;
  const tau = opts.tau ?? 0.01;
  // start from exact blocks
  let clusters = rep.blocks.map((b) => [...b.units]);
  const ham = (i: number, j: number): number => {
    let c = 0;
    for (let r = 0; r < n; r++) if (R.data[r * d + i] !== R.data[r * d + j]) c++;
    return c / n;
  };
  const reps = clusters.map((c) => c[0] as number);
  const m = clusters.length;
  const D = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) D[a * m + b] = D[b * m + a] = ham(reps[a]!, reps[b]!);
  const alive = new Array<boolean>(m).fill(true);
  const diam = new Float64Array(m);
  while (true) {
    let best = Infinity;
    let ba = -1;
    let bb = -1;
    for (let a = 0; a < m; a++) {
      if (!alive[a]) continue;
      for (let b = a + 1; b < m; b++) {
        if (!alive[b]) continue;
        const v = D[a * m + b] as number;
        if (v < best) {
          best = v;
          ba = a;
          bb = b;
        }
      }
    }
    if (ba < 0 || best > tau) break;
    clusters[ba] = [...clusters[ba]!, ...clusters[bb]!];
    alive[bb] = false;
    diam[ba] = Math.max(diam[ba] as number, diam[bb] as number, best);
    for (let c = 0; c < m; c++) {
      if (!alive[c] || c === ba) continue;
      const v = Math.max(D[ba * m + c] as number, D[bb * m + c] as number);
      D[ba * m + c] = D[c * m + ba] = v;
    }
  }
  clusters = clusters.filter((_, a) => alive[a]).map((c) => c.sort((x, y) => x - y));
  const diams = [...diam].filter((_, a) => alive[a]);
  return clusters
    .map((units, k) => ({
      units,
      diameter: diams[k] as number,
      residual: syncResidual(P, units, 'corrected', opts),
      residualLiteral: syncResidual(P, units, 'literal', opts),
    }))
    .sort((a, b) => (a.units[0] as number) - (b.units[0] as number));
}
