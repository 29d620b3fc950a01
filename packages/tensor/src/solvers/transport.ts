import { BasisError } from '../errors.js';
import { Matrix, asMatrix } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';

/** Options of {@link exactTransport}. */
export interface ExactTransportOptions {
  /** Maximise `<P, C>` instead of minimising it (default `false`). */
  maximize?: boolean;
  /**
   * Largest accepted relative difference of the total masses, `|sum a - sum b| / max(sum a, sum b)`
   * (default `1e-9`). Larger differences throw `INFEASIBLE`. A smaller accepted mismatch is left
   * unshipped: the plan then misses the marginals by at most that mismatch.
   */
  massTolerance?: number;
  /** Pivot budget (default `max(100000, 50 * m * n)`); exceeding it throws `NOT_CONVERGED`. */
  maxIter?: number;
}

/** An optimal transport plan returned by {@link exactTransport}. */
export interface ExactTransportResult {
  /** The optimal plan `P` (`m x n`, non-negative, `P 1 = a`, `P^T 1 = b`). */
  plan: Matrix;
  /** `<P, C>`, the optimal objective (summed over the plan's support in row-major order). */
  cost: number;
  /** Number of network simplex pivots. */
  iterations: number;
  /**
   * Row potentials of an optimal dual: `f[i] + g[j] <= C[i, j]` for every pair (`>=` when
   * maximising), with equality where `P[i, j] > 0`, and `sum a f + sum b g = cost`.
   */
  f: Float64Array;
  /** Column potentials of the optimal dual (see `f`). */
  g: Float64Array;
  /** Largest absolute marginal error `max(|P 1 - a|, |P^T 1 - b|)` of the returned plan. */
  marginalError: number;
}

const INF = Number.POSITIVE_INFINITY;
/** Relative tolerance of the pricing step (as in Bonneel et al.'s network simplex). */
const PRICE_EPS = 2.220446049250313e-15;

/** Validates a marginal: finite, non-negative, the right length. Returns a float64 copy. */
export function checkMarginal(x: NumericArrayLike, name: string, want: number, side: string): Float64Array {
  if (x.length !== want) {
    throw new BasisError(
      'SHAPE_MISMATCH',
      `${name} has length ${x.length} but the cost matrix has ${want} ${side}; pass one weight per ${side.replace(/s$/, '')}`,
    );
  }
  const out = new Float64Array(want);
  for (let k = 0; k < want; k++) {
    const v = Number(x[k]);
    if (!Number.isFinite(v)) {
      throw new BasisError('NON_FINITE_INPUT', `${name}[${k}] is ${v}; marginal weights must be finite`, {
        details: { name, index: k, value: v },
      });
    }
    if (v < 0) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `${name}[${k}] is ${v}; marginal weights must be non-negative`,
        { details: { name, index: k, value: v } },
      );
    }
    out[k] = v;
  }
  return out;
}

/** The cost matrix `C` as a Matrix; TOO_SMALL when it has no row or no column (`who` needs one, for the message). */
export function costMatrix(C: MatrixLike, who: string): Matrix {
  const M = asMatrix(C);
  if (M.rows === 0 || M.cols === 0) {
    throw new BasisError('TOO_SMALL', `The cost matrix is empty (${M.rows} x ${M.cols}); ${who} needs at least one row and column`);
  }
  return M;
}

/** Throws NON_FINITE_INPUT naming the first entry of the cost matrix `M` (`what`, for the message) that is not finite. */
export function checkFiniteCost(M: Matrix, what: string): void {
  const c = M.data;
  const n = M.cols;
  for (let k = 0; k < c.length; k++) {
    const x = c[k] as number;
    if (!Number.isFinite(x)) {
      const i = Math.floor(k / n);
      throw new BasisError('NON_FINITE_INPUT', `C[${i}, ${k - i * n}] is ${x}; ${what} must be finite`, {
        details: { row: i, col: k - i * n, value: x },
      });
    }
  }
}

/** Checks that the two total masses agree; returns them. */
export function checkMasses(a: Float64Array, b: Float64Array, tol: number): void {
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < a.length; k++) sa += a[k] as number;
  for (let k = 0; k < b.length; k++) sb += b[k] as number;
  if (!(sa > 0) || !(sb > 0)) {
    throw new BasisError(
      'INFEASIBLE',
      `The marginals must carry positive mass (sum a = ${sa}, sum b = ${sb})`,
    );
  }
  const rel = Math.abs(sa - sb) / Math.max(sa, sb);
  if (rel > tol) {
    throw new BasisError(
      'INFEASIBLE',
      `The marginals carry different masses (sum a = ${sa}, sum b = ${sb}, relative difference ` +
        `${rel.toExponential(3)} > ${tol}); normalise both to the same total`,
      { details: { sumA: sa, sumB: sb } },
    );
  }
}

/** Raw result of {@link transportKernel}. */
export interface TransportKernelResult {
  /** Row-major `m x n` plan. */
  plan: Float64Array;
  /** Dual potentials (minimisation convention). */
  f: Float64Array;
  g: Float64Array;
  iterations: number;
}

/**
 * Network simplex for the balanced transportation problem `min <P, C>` over
 * `{P >= 0, P 1 = a, P^T 1 = b}` (minimisation; `C` row-major `m x n`, finite).
 *
 * The network has the `m` supply nodes, the `n` demand nodes and an artificial root joined to every
 * node by an artificial arc (cost 0 towards the root, a big-M cost away from it), which gives a
 * strongly feasible starting tree. The entering arc is chosen by block search pricing (blocks of
 * about `sqrt(m n)` arcs, scanned cyclically); the leaving arc by Cunningham's rule (the last
 * blocking arc of the cycle, oriented from its apex), which keeps the tree strongly feasible and
 * prevents cycling on degenerate problems. The tree is stored with parent pointers, depths and
 * child lists; potentials are re-derived from the tree at the end and the optimality check is
 * repeated with them, so the returned plan and duals are consistent to rounding.
 */
export function transportKernel(
  a: Float64Array,
  b: Float64Array,
  C: Float64Array,
  m: number,
  n: number,
  maxIter: number,
): TransportKernelResult {
  const E = m * n; // real arcs: e = i * n + j, from node i to node m + j
  const N = m + n; // real nodes; the root is node N
  const root = N;
  const nArcs = E + N; // artificial arc of node k is E + k
  let maxAbs = 0;
  for (let e = 0; e < E; e++) {
    const c = Math.abs(C[e] as number);
    if (c > maxAbs) maxAbs = c;
  }
  const ART = (maxAbs + 1) * (N + 1);

  const flow = new Float64Array(nArcs);
  // 1: at lower bound (may enter), 0: in the tree, 2: artificial arc out of the tree (never enters)
  const state = new Uint8Array(nArcs).fill(1);
  const parent = new Int32Array(N + 1);
  const pred = new Int32Array(N + 1);
  const predUp = new Uint8Array(N + 1); // 1 when pred arc goes node -> parent
  const depth = new Int32Array(N + 1);
  const pi = new Float64Array(N + 1);
  const firstChild = new Int32Array(N + 1).fill(-1);
  const nextSib = new Int32Array(N + 1).fill(-1);
  const prevSib = new Int32Array(N + 1).fill(-1);
  const artCost = new Float64Array(N);
  const artUp = new Uint8Array(N); // artificial arc goes k -> root
  const supply = new Float64Array(N);
  for (let i = 0; i < m; i++) supply[i] = a[i] as number;
  for (let j = 0; j < n; j++) supply[m + j] = -(b[j] as number);

  const addChild = (p: number, c: number): void => {
    const f = firstChild[p] as number;
    nextSib[c] = f;
    prevSib[c] = -1;
    if (f !== -1) prevSib[f] = c;
    firstChild[p] = c;
  };
  const removeChild = (p: number, c: number): void => {
    const pv = prevSib[c] as number;
    const nx = nextSib[c] as number;
    if (pv !== -1) nextSib[pv] = nx;
    else firstChild[p] = nx;
    if (nx !== -1) prevSib[nx] = pv;
    nextSib[c] = -1;
    prevSib[c] = -1;
  };

  parent[root] = -1;
  pred[root] = -1;
  depth[root] = 0;
  pi[root] = 0;
  for (let k = N - 1; k >= 0; k--) {
    const s = supply[k] as number;
    const e = E + k;
    parent[k] = root;
    pred[k] = e;
    depth[k] = 1;
    state[e] = 0;
    if (s >= 0) {
      // zero-flow arcs must point towards the root (strongly feasible tree)
      artUp[k] = 1;
      predUp[k] = 1;
      artCost[k] = 0;
      flow[e] = s;
      pi[k] = 0;
    } else {
      artUp[k] = 0;
      predUp[k] = 0;
      artCost[k] = ART;
      flow[e] = -s;
      pi[k] = ART;
    }
    addChild(root, k);
  }

  const arcSrc = (e: number): number => {
    if (e < E) return (e / n) | 0;
    const k = e - E;
    return artUp[k] === 1 ? k : root;
  };
  const arcTgt = (e: number): number => {
    if (e < E) return m + (e % n);
    const k = e - E;
    return artUp[k] === 1 ? root : k;
  };
  const arcCost = (e: number): number => (e < E ? (C[e] as number) : (artCost[e - E] as number));

  // Block search pricing over the real arcs.
  const blockSize = Math.max(10, Math.ceil(Math.sqrt(E)));
  let nextArc = 0;
  const findEntering = (): number => {
    let best = -1;
    let minRc = 0;
    let cnt = blockSize;
    let e = nextArc;
    let i = (e / n) | 0;
    let j = e - i * n;
    for (let scanned = 0; scanned < E; scanned++) {
      if (state[e] === 1) {
        const rc = (C[e] as number) + (pi[i] as number) - (pi[m + j] as number);
        if (rc < minRc) {
          minRc = rc;
          best = e;
        }
      }
      e++;
      j++;
      if (j === n) {
        j = 0;
        i++;
        if (e === E) {
          e = 0;
          i = 0;
        }
      }
      if (--cnt === 0) {
        if (best >= 0 && minRc < -threshold(best)) {
          nextArc = e;
          return best;
        }
        cnt = blockSize;
      }
    }
    if (best >= 0 && minRc < -threshold(best)) {
      nextArc = e;
      return best;
    }
    return -1;
  };
  const threshold = (e: number): number => {
    const i = (e / n) | 0;
    const j = e - i * n;
    return (
      PRICE_EPS *
      Math.max(Math.abs(C[e] as number), Math.abs(pi[i] as number), Math.abs(pi[m + j] as number))
    );
  };

  const stack = new Int32Array(N + 1);
  const pivot = (ein: number): void => {
    const s = arcSrc(ein);
    const t = arcTgt(ein);
    // apex of the cycle
    let x = s;
    let y = t;
    while (x !== y) {
      const dx = depth[x] as number;
      const dy = depth[y] as number;
      if (dx >= dy) x = parent[x] as number;
      if (dy >= dx) y = parent[y] as number;
    }
    const join = x;
    // Ratio test; flow goes s -> t along ein, then t -> join -> s through the tree.
    let delta = INF;
    let uOut = -1;
    let side = 0;
    for (let u = s; u !== join; u = parent[u] as number) {
      if (predUp[u] === 1) {
        const d = flow[pred[u] as number] as number;
        if (d < delta) {
          delta = d;
          uOut = u;
          side = 1;
        }
      }
    }
    for (let u = t; u !== join; u = parent[u] as number) {
      if (predUp[u] === 0) {
        const d = flow[pred[u] as number] as number;
        if (d <= delta) {
          delta = d;
          uOut = u;
          side = 2;
        }
      }
    }
    if (uOut < 0) {
      throw new BasisError('NOT_CONVERGED', 'exactTransport: unbounded pivot cycle (internal error)');
    }
    if (delta > 0) {
      flow[ein] = (flow[ein] as number) + delta;
      for (let u = s; u !== join; u = parent[u] as number) {
        const e = pred[u] as number;
        flow[e] = predUp[u] === 1 ? (flow[e] as number) - delta : (flow[e] as number) + delta;
      }
      for (let u = t; u !== join; u = parent[u] as number) {
        const e = pred[u] as number;
        flow[e] = predUp[u] === 1 ? (flow[e] as number) + delta : (flow[e] as number) - delta;
      }
    }
    const eOut = pred[uOut] as number;
    flow[eOut] = 0;
    state[eOut] = eOut < E ? 1 : 2;
    state[ein] = 0;
    const uIn = side === 1 ? s : t;
    const vIn = side === 1 ? t : s;
    const rc = arcCost(ein) + (pi[s] as number) - (pi[t] as number);
    const sigma = uIn === t ? rc : -rc;
    // Re-hang the subtree below eOut from uIn, reversing the path uIn -> uOut.
    let w = uIn;
    let newPar = vIn;
    let newPred = ein;
    let newUp = s === uIn ? 1 : 0;
    for (;;) {
      const oldPar = parent[w] as number;
      const oldPred = pred[w] as number;
      const oldUp = predUp[w] as number;
      removeChild(oldPar, w);
      parent[w] = newPar;
      pred[w] = newPred;
      predUp[w] = newUp;
      addChild(newPar, w);
      if (w === uOut) break;
      newPar = w;
      newPred = oldPred;
      newUp = oldUp === 1 ? 0 : 1;
      w = oldPar;
    }
    // Depths and potentials of the re-hung subtree.
    let top = 0;
    stack[top++] = uIn;
    while (top > 0) {
      const v = stack[--top] as number;
      depth[v] = (depth[parent[v] as number] as number) + 1;
      pi[v] = (pi[v] as number) + sigma;
      for (let c = firstChild[v] as number; c !== -1; c = nextSib[c] as number) stack[top++] = c;
    }
  };

  /**
   * Re-derives potentials from the tree (reduced cost 0 on tree arcs), walking the tree as an
   * undirected graph from real node 0 (pi = 0) so that nodes joined to it by real arcs get
   * potentials of the size of the costs rather than of the big-M artificial cost.
   */
  const order = new Int32Array(N + 1);
  const seen = new Uint8Array(N + 1);
  const recomputePotentials = (): void => {
    seen.fill(0);
    let top = 0;
    stack[top++] = 0;
    seen[0] = 1;
    pi[0] = 0;
    while (top > 0) {
      const v = stack[--top] as number;
      const pv = pi[v] as number;
      const p = parent[v] as number;
      if (p >= 0 && seen[p] === 0) {
        // arc pred[v] joins v and its parent
        const c = arcCost(pred[v] as number);
        pi[p] = predUp[v] === 1 ? pv + c : pv - c;
        seen[p] = 1;
        stack[top++] = p;
      }
      for (let ch = firstChild[v] as number; ch !== -1; ch = nextSib[ch] as number) {
        if (seen[ch] === 1) continue;
        const c = arcCost(pred[ch] as number);
        pi[ch] = predUp[ch] === 1 ? pv - c : pv + c;
        seen[ch] = 1;
        stack[top++] = ch;
      }
    }
  };
  /**
   * Re-derives the tree flows from the supplies by leaf elimination on the forest of real tree
   * arcs (at an optimum of a balanced problem the artificial arcs carry no flow, so every
   * component is balanced). Peeling leaves first computes each flow from one side of its cut,
   * e.g. a star gets its masses exactly; the last node of each component absorbs the rounding
   * residual (and any accepted mass mismatch).
   */
  const recomputeFlows = (): void => {
    const deg = new Int32Array(N);
    const xr = new Int32Array(N); // xor of the incident real tree arcs not yet eliminated
    for (let v = 0; v < N; v++) {
      const e = pred[v] as number;
      if (e >= E) {
        flow[e] = 0;
        continue;
      }
      const p = parent[v] as number;
      deg[v] = (deg[v] as number) + 1;
      deg[p] = (deg[p] as number) + 1;
      xr[v] = (xr[v] as number) ^ e;
      xr[p] = (xr[p] as number) ^ e;
    }
    const ex = supply.slice();
    const queue = order;
    let head = 0;
    let tail = 0;
    for (let v = 0; v < N; v++) if (deg[v] === 1) queue[tail++] = v;
    while (head < tail) {
      const v = queue[head++] as number;
      if (deg[v] !== 1) continue; // the last node of a two-node remainder
      const e = xr[v] as number;
      const i = (e / n) | 0;
      const w = v === i ? m + (e - i * n) : i;
      const x = ex[v] as number;
      let fl = v === i ? x : -x;
      if (fl < 0) fl = 0;
      flow[e] = fl;
      ex[w] = (ex[w] as number) + x;
      deg[v] = 0;
      deg[w] = (deg[w] as number) - 1;
      xr[w] = (xr[w] as number) ^ e;
      if (deg[w] === 1) queue[tail++] = w;
    }
  };

  let iterations = 0;
  for (;;) {
    for (;;) {
      const ein = findEntering();
      if (ein < 0) break;
      if (iterations >= maxIter) {
        throw new BasisError(
          'NOT_CONVERGED',
          `exactTransport did not finish within ${maxIter} pivots; raise maxIter`,
        );
      }
      pivot(ein);
      iterations++;
    }
    recomputePotentials();
    if (findEntering() < 0) break;
  }
  recomputeFlows();

  const plan = new Float64Array(E);
  for (let k = 0; k < N; k++) {
    const e = pred[k] as number;
    if (e < E) plan[e] = flow[e] as number;
  }
  const f = new Float64Array(m);
  const g = new Float64Array(n);
  for (let i = 0; i < m; i++) f[i] = 0 - (pi[i] as number);
  for (let j = 0; j < n; j++) g[j] = pi[m + j] as number;
  return { plan, f, g, iterations };
}

/**
 * Solves the discrete optimal transport problem exactly: the plan `P >= 0` with row sums `a` and
 * column sums `b` minimising (or, with `maximize`, maximising) `<P, C> = sum_ij P[i, j] C[i, j]`.
 * Uses a network simplex with a strongly feasible spanning tree (Cunningham's anti-cycling rule;
 * degenerate problems such as all-equal costs are handled) and block search pricing, in the
 * spirit of Bonneel et al. (2011) / POT's `emd`. The plan is a vertex of the transportation
 * polytope (at most `m + n - 1` non-zeros), exact to rounding. Also returns optimal dual
 * potentials `f`, `g`. Marginals must be finite and non-negative (`INVALID_ARGUMENT` when
 * negative) with equal totals up to `massTolerance` (else `INFEASIBLE`); `C` must be finite.
 *
 * @example
 * ```ts
 * import { exactTransport } from '@basis/tensor';
 * const a = new Float64Array([0.5, 0.5]);
 * const b = new Float64Array([0.25, 0.75]);
 * const r = exactTransport(a, b, [[0, 1], [1, 0]]);
 * r.plan.toArray(); // [[0.25, 0.25], [0, 0.5]]
 * r.cost; // 0.25
 * ```
 */
export function exactTransport(
  a: NumericArrayLike,
  b: NumericArrayLike,
  C: MatrixLike,
  opts: ExactTransportOptions = {},
): ExactTransportResult {
  const M = costMatrix(C, 'transport');
  const m = M.rows;
  const n = M.cols;
  const maximize = opts.maximize ?? false;
  if (typeof maximize !== 'boolean') {
    throw new BasisError('INVALID_ARGUMENT', `maximize must be a boolean, got ${String(maximize)}`);
  }
  const massTol = opts.massTolerance ?? 1e-9;
  if (!(massTol >= 0) || !Number.isFinite(massTol)) {
    throw new BasisError('INVALID_ARGUMENT', `massTolerance must be a finite number >= 0, got ${massTol}`);
  }
  const maxIter = opts.maxIter ?? Math.max(100000, 50 * m * n);
  if (!(maxIter >= 0) || !Number.isFinite(maxIter)) {
    throw new BasisError('INVALID_ARGUMENT', `maxIter must be a finite number >= 0, got ${maxIter}`);
  }
  const wa = checkMarginal(a, 'a', m, 'rows');
  const wb = checkMarginal(b, 'b', n, 'columns');
  const c = M.data;
  checkFiniteCost(M, 'the transport cost matrix');
  checkMasses(wa, wb, massTol);

  let work = c;
  if (maximize) {
    work = new Float64Array(c.length);
    for (let k = 0; k < c.length; k++) work[k] = -(c[k] as number);
  }
  const res = transportKernel(wa, wb, work, m, n, maxIter);
  if (maximize) {
    for (let i = 0; i < m; i++) res.f[i] = -(res.f[i] as number);
    for (let j = 0; j < n; j++) res.g[j] = -(res.g[j] as number);
  }
  const P = res.plan;
  let cost = 0;
  for (let k = 0; k < P.length; k++) {
    const p = P[k] as number;
    if (p !== 0) cost += p * (c[k] as number);
  }
  let err = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += P[i * n + j] as number;
    err = Math.max(err, Math.abs(s - (wa[i] as number)));
  }
  const colSums = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) colSums[j] = (colSums[j] as number) + (P[i * n + j] as number);
  for (let j = 0; j < n; j++) err = Math.max(err, Math.abs((colSums[j] as number) - (wb[j] as number)));
  return {
    plan: new Matrix(m, n, P),
    cost,
    iterations: res.iterations,
    f: res.f,
    g: res.g,
    marginalError: err,
  };
}
