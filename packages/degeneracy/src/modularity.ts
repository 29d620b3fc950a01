// D8: modularity — constrained losses, γ_i, modularity cost and 2-way partition search.
import { BasisError, Matrix, eigh } from '@basis/tensor';
import { checkEnum, checkMatrix, checkOpt, checkShape } from './util.js';

/**
 * Fraction of degrees of freedom a mediating connection of strength `w` removes at noise scale ε
 * (S001 eq. 34): `γ_i / γ̃ = log(w²/ε) / log(1/ε)`, clipped to [0, 1] (1 at `w ≥ 1`, 0 at `w ≤ √ε`).
 * Log-additive (eq. 35) inside `[√ε, 1]`.
 *
 * @example
 * ```ts
 * gammaFraction(1, 1e-4); // 1
 * gammaFraction(1e-2, 1e-4); // 0
 * gammaFraction(1e-1, 1e-4); // 0.5
 * ```
 */
export function gammaFraction(w: number, eps: number): number {
  checkOpt(eps, 'eps', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  if (!Number.isFinite(w) || w < 0) throw new BasisError('INVALID_ARGUMENT', `w must be a finite non-negative strength, got ${w}`);
  if (w === 0) return 0;
  return Math.min(1, Math.max(0, Math.log((w * w) / eps) / Math.log(1 / eps)));
}

/**
 * Constrained loss of module 1 (eqs. 31-32, index fixed): `L_1 + (1/n) Σ_i w_i² Σ_x (v_i*(x) − v_i(x))²`
 * for mediating activations `V` (`n x m`) against their reference `Vref`; weights default to 1 (eq. 31).
 *
 * @example
 * ```ts
 * constrainedLoss(0.1, Matrix.from([[1, 2]]), Matrix.from([[1, 0]])); // 4.1
 * ```
 */
export function constrainedLoss(baseLoss: number, Vref: Matrix, V: Matrix, weights?: ArrayLike<number>): number {
  if (!Number.isFinite(baseLoss)) throw new BasisError('NON_FINITE_INPUT', `baseLoss is ${baseLoss}`);
  checkMatrix(Vref, 'Vref');
  checkMatrix(V, 'V');
  checkShape(Vref.rows === V.rows && Vref.cols === V.cols, `Vref is ${Vref.rows}x${Vref.cols} but V is ${V.rows}x${V.cols}`);
  if (weights !== undefined) checkShape(weights.length === V.cols, `weights has ${weights.length} entries for ${V.cols} mediating activations`);
  let s = 0;
  for (let t = 0; t < V.rows; t++) for (let i = 0; i < V.cols; i++) s += (weights === undefined ? 1 : (weights[i] as number) ** 2) * (Vref.get(t, i) - V.get(t, i)) ** 2;
  return baseLoss + s / V.rows;
}

/**
 * Symmetric node adjacency `|w_uv|` of a layered interaction graph from transformed weights
 * `mats[l]` (`d_{l+1} x d_l`); nodes are numbered layer by layer.
 *
 * @example
 * ```ts
 * layeredAdjacency([Matrix.from([[1, 0], [0, 2]])]).rows; // 4
 * ```
 */
export function layeredAdjacency(mats: readonly Matrix[]): Matrix {
  if (mats.length === 0) throw new BasisError('TOO_SMALL', 'layeredAdjacency needs at least one matrix');
  const sizes = [mats[0]!.cols, ...mats.map((m) => m.rows)];
  const offs: number[] = [0];
  for (const s of sizes) offs.push(offs[offs.length - 1]! + s);
  const n = offs[offs.length - 1]!;
  const A = new Matrix(n, n);
  mats.forEach((m, l) => {
    checkMatrix(m, `mats[${l}]`);
    checkShape(m.cols === sizes[l], `mats[${l}] has ${m.cols} columns, expected ${sizes[l]}`);
    for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) {
      const u = offs[l + 1]! + i;
      const v = offs[l]! + j;
      const w = Math.abs(m.get(i, j));
      A.set(u, v, A.get(u, v) + w);
      A.set(v, u, A.get(v, u) + w);
    }
  });
  return A;
}

/**
 * Modularity cost of a partition (D8): each node's mediating strength `w_v = Σ_{u ∉ module(v)} |w_vu|`
 * and `Cost = Σ_v max(0, log(w_v / √ε))`, optionally divided by `log(ε^{-1/2})`.
 *
 * @example
 * ```ts
 * modularityCost(A, [0, 0, 1, 1], 1e-4); // 0 for two disconnected modules
 * ```
 */
export function modularityCost(adjacency: Matrix, labels: ArrayLike<number>, eps: number, opts: { normalise?: boolean } = {}): number {
  checkOpt(eps, 'eps', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  checkMatrix(adjacency, 'adjacency');
  checkShape(adjacency.rows === adjacency.cols && labels.length === adjacency.rows, `adjacency is ${adjacency.rows}x${adjacency.cols} with ${labels.length} labels`);
  const n = adjacency.rows;
  const half = Math.sqrt(eps);
  let cost = 0;
  for (let v = 0; v < n; v++) {
    let w = 0;
    for (let u = 0; u < n; u++) if (labels[u] !== labels[v]) w += Math.abs(adjacency.get(v, u));
    if (w > half) cost += Math.log(w / half);
  }
  return opts.normalise === true ? cost / Math.log(1 / half) : cost;
}

/** Result of {@link bestBipartition}. */
export interface Bipartition {
  readonly labels: Int32Array;
  readonly cost: number;
  readonly sizes: readonly [number, number];
  readonly method: 'exhaustive' | 'spectral';
}

/**
 * Best 2-way partition by modularity cost with at least `minSize` nodes per module (default 1):
 * exhaustive over all `2^(n−1)` splits for n ≤ 16 (`method: 'auto'`), else spectral (Fiedler
 * vector of the Laplacian of `ω_uv = max(0, log(|w_uv|/√ε))`, split at the best threshold)
 * refined by single-node moves (Kernighan-Lin style) while the cost drops.
 *
 * @example
 * ```ts
 * bestBipartition(layeredAdjacency(mats), 1e-4).labels;
 * ```
 */
export function bestBipartition(adjacency: Matrix, eps: number, opts: { minSize?: number; method?: 'auto' | 'exhaustive' | 'spectral' } = {}): Bipartition {
  checkEnum(opts.method, 'method', ['auto', 'exhaustive', 'spectral']);
  checkOpt(opts.minSize, 'minSize', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  checkOpt(eps, 'eps', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  checkMatrix(adjacency, 'adjacency');
  const n = adjacency.rows;
  const minSize = opts.minSize ?? 1;
  if (2 * minSize > n) throw new BasisError('TOO_SMALL', `${n} nodes cannot form two modules of at least ${minSize} (minSize)`);
  const method = opts.method === 'exhaustive' || (opts.method !== 'spectral' && n <= 16) ? 'exhaustive' : 'spectral';
  if (method === 'exhaustive' && n > 24) throw new BasisError('CONFIG_INVALID', `exhaustive search over ${n} nodes is too large (at most 24); use method 'spectral'`, { details: { field: 'method' } });
  const sizes = (l: Int32Array): [number, number] => {
    let a = 0;
    for (const v of l) a += v === 0 ? 1 : 0;
    return [a, n - a];
  };
  const ok = (l: Int32Array): boolean => {
    const [a, b] = sizes(l);
    return a >= minSize && b >= minSize;
  };
  let best: Int32Array | null = null;
  let bestCost = Infinity;
  const consider = (l: Int32Array): void => {
    if (!ok(l)) return;
    const c = modularityCost(adjacency, l, eps);
    if (c < bestCost - 1e-12) {
      bestCost = c;
      best = Int32Array.from(l);
    }
  };
  if (method === 'exhaustive') {
    const l = new Int32Array(n);
    for (let mask = 1; mask < 2 ** (n - 1); mask++) {
      for (let i = 0; i < n; i++) l[i] = i < n - 1 && (mask >> i) & 1 ? 1 : 0;
      consider(l);
    }
  } else {
    const half = Math.sqrt(eps);
    const Lap = new Matrix(n, n);
    for (let i = 0; i < n; i++) {
      let deg = 0;
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const w = Math.abs(adjacency.get(i, j));
        const om = w > half ? Math.log(w / half) : 0;
        Lap.set(i, j, -om);
        deg += om;
      }
      Lap.set(i, i, deg);
    }
    const { values, vectors } = eigh(Lap);
    // eigenvalues descending: the Fiedler vector is the second smallest
    const idx = values.length - 2;
    const f = Array.from({ length: n }, (_, i) => vectors.get(i, idx));
    const order = f.map((v, i) => [v, i] as [number, number]).sort((a, b) => a[0] - b[0]);
    const l = new Int32Array(n).fill(1);
    for (let k = 0; k < n - 1; k++) {
      l[order[k]![1]] = 0;
      consider(l);
    }
    // refinement by single-node moves
    if (best !== null) {
      let improved = true;
      const cur = Int32Array.from(best as Int32Array);
      while (improved) {
        improved = false;
        for (let i = 0; i < n; i++) {
          cur[i] = 1 - (cur[i] as number);
          const before = bestCost;
          consider(cur);
          if (bestCost < before) improved = true;
          else cur[i] = 1 - (cur[i] as number);
        }
      }
    }
  }
  if (best === null) throw new BasisError('TOO_SMALL', 'no partition satisfies minSize');
  return { labels: best, cost: bestCost, sizes: sizes(best), method };
}
