import { BasisError } from '../errors.js';
import { show } from '../validation.js';
import { Matrix, asMatrix } from '../matrix.js';
import type { MatrixLike, NumericArrayLike } from '../matrix.js';
import { checkFiniteCost, checkMarginal, checkMasses, costMatrix } from './transport.js';

/** Options of {@link sinkhorn}. */
export interface SinkhornOptions {
  /** Entropic regularisation `epsilon > 0`, in the units of `C` (required). */
  epsilon: number;
  /** Iteration budget (one iteration = a row and a column update; default 10000). */
  maxIter?: number;
  /** Stop when the L1 marginal error `sum_i |(P 1)_i - a_i|` is at most `tol` (default 1e-9). */
  tol?: number;
  /** Throw `NOT_CONVERGED` instead of returning `converged: false` (default `false`). */
  requireConvergence?: boolean;
  /** Relative mass mismatch accepted between `a` and `b` (default 1e-9), else `INFEASIBLE`. */
  massTolerance?: number;
}

/** Result of {@link sinkhorn}. */
export interface SinkhornResult {
  /** The entropic plan `P[i, j] = exp((f[i] + g[j] - C[i, j]) / epsilon)`. */
  plan: Matrix;
  /** Transport cost `<P, C>` of the plan (without the entropy term). */
  cost: number;
  /** Row dual potentials (0 on rows with zero mass is not meaningful: set to `-Infinity`). */
  f: Float64Array;
  /** Column dual potentials (see `f`). */
  g: Float64Array;
  /** Number of iterations performed. */
  iterations: number;
  /** L1 marginal error `sum |P 1 - a| + sum |P^T 1 - b|` of the returned plan. */
  marginalError: number;
  /** Whether the row-marginal L1 error reached `tol` within `maxIter` iterations. */
  converged: boolean;
}

function checkPositiveNumber(v: unknown, name: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be a finite number > 0, got ${String(v)}`);
  }
  return v;
}

function checkIterations(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be an integer >= 1, got ${show(v)}`);
  }
  return v;
}

function checkTol(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new BasisError('INVALID_ARGUMENT', `${name} must be a finite number >= 0, got ${show(v)}`);
  }
  return v;
}

/**
 * Entropic optimal transport by log-domain (stabilised) Sinkhorn iterations: the plan
 * `P = diag(e^{f/eps}) e^{-C/eps} diag(e^{g/eps})` minimising `<P, C> - eps H(P)` with row sums
 * `a` and column sums `b`. Each iteration updates the scaled potentials with log-sum-exp over the
 * supports (`f_i = eps log a_i - eps LSE_j((g_j - C_ij)/eps)`, then `g` alike), so small
 * `epsilon` neither overflows nor underflows. After every iteration the column marginals are
 * exact; the loop stops when the row marginals' L1 error is `<= tol`. When `maxIter` is reached
 * first the result carries `converged: false` (or, with `requireConvergence`, `NOT_CONVERGED` is
 * thrown); the numbers are always finite. Rows/columns with zero mass get zero plan entries and
 * `-Infinity` potentials. As `epsilon -> 0`, `<P, C>` tends to the exact OT cost, within
 * `epsilon (H(a) + H(b))`.
 *
 * @example
 * ```ts
 * import { sinkhorn } from '@basis/tensor';
 * const a = new Float64Array([0.5, 0.5]);
 * const r = sinkhorn(a, a, [[0, 1], [1, 0]], { epsilon: 0.01 });
 * r.converged; // true
 * r.cost; // ~ 0 (the plan is ~ diag(0.5, 0.5))
 * ```
 */
export function sinkhorn(
  a: NumericArrayLike,
  b: NumericArrayLike,
  C: MatrixLike,
  opts: SinkhornOptions,
): SinkhornResult {
  const M = costMatrix(C, 'Sinkhorn');
  const m = M.rows;
  const n = M.cols;
  if (opts === undefined || opts === null || typeof opts !== 'object') {
    throw new BasisError('INVALID_ARGUMENT', 'sinkhorn needs an options object with epsilon > 0');
  }
  const eps = checkPositiveNumber(opts.epsilon, 'epsilon');
  const maxIter = checkIterations(opts.maxIter, 'maxIter', 10000);
  const tol = checkTol(opts.tol, 'tol', 1e-9);
  const massTol = checkTol(opts.massTolerance, 'massTolerance', 1e-9);
  const wa = checkMarginal(a, 'a', m, 'rows');
  const wb = checkMarginal(b, 'b', n, 'columns');
  const c = M.data;
  checkFiniteCost(M, 'the cost matrix');
  checkMasses(wa, wb, massTol);

  // Restrict to the supports.
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < m; i++) if ((wa[i] as number) > 0) rows.push(i);
  for (let j = 0; j < n; j++) if ((wb[j] as number) > 0) cols.push(j);
  const p = rows.length;
  const q = cols.length;
  // S = (C - min C) / eps on the support, row-major (p x q) and column-major copies. The shift
  // leaves the plan unchanged (it moves into f) and keeps the scaled potentials small.
  let cMin = Infinity;
  for (let r = 0; r < p; r++) {
    const i = rows[r] as number;
    for (let s = 0; s < q; s++) cMin = Math.min(cMin, c[i * n + (cols[s] as number)] as number);
  }
  const S = new Float64Array(p * q);
  for (let r = 0; r < p; r++) {
    const i = rows[r] as number;
    for (let s = 0; s < q; s++) S[r * q + s] = ((c[i * n + (cols[s] as number)] as number) - cMin) / eps;
  }
  const logA = new Float64Array(p);
  const logB = new Float64Array(q);
  for (let r = 0; r < p; r++) logA[r] = Math.log(wa[rows[r] as number] as number);
  for (let s = 0; s < q; s++) logB[s] = Math.log(wb[cols[s] as number] as number);
  const F = new Float64Array(p); // absorbed f / eps
  const G = new Float64Array(q); // absorbed g / eps
  const u = new Float64Array(p).fill(1); // pending row scaling: f / eps = F + log u
  const v = new Float64Array(q).fill(1);
  const Kt = new Float64Array(p * q); // exp(F_i + G_j - S_ij): the plan at the last absorption
  const Kv = new Float64Array(p);
  const Ku = new Float64Array(q);
  const colMax = new Float64Array(q);

  /** Exact log-domain updates of F then G (log-sum-exp), with u = v = 1. */
  const logUpdates = (): void => {
    for (let r = 0; r < p; r++) {
      const base = r * q;
      let mx = -Infinity;
      for (let s = 0; s < q; s++) mx = Math.max(mx, (G[s] as number) - (S[base + s] as number));
      let sum = 0;
      for (let s = 0; s < q; s++) sum += Math.exp((G[s] as number) - (S[base + s] as number) - mx);
      F[r] = (logA[r] as number) - (mx + Math.log(sum));
    }
    colMax.fill(-Infinity);
    for (let r = 0; r < p; r++) {
      const base = r * q;
      const fr = F[r] as number;
      for (let s = 0; s < q; s++) colMax[s] = Math.max(colMax[s] as number, fr - (S[base + s] as number));
    }
    Ku.fill(0);
    for (let r = 0; r < p; r++) {
      const base = r * q;
      const fr = F[r] as number;
      for (let s = 0; s < q; s++) Ku[s] = (Ku[s] as number) + Math.exp(fr - (S[base + s] as number) - (colMax[s] as number));
    }
    for (let s = 0; s < q; s++) G[s] = (logB[s] as number) - ((colMax[s] as number) + Math.log(Ku[s] as number));
  };
  /** Moves the pending scalings into F, G and rebuilds the kernel. */
  const absorb = (): void => {
    // a pending scaling that overflowed or vanished is dropped (a log step follows in that case)
    for (let r = 0; r < p; r++) if (!((u[r] as number) > 0) || u[r] === Infinity) u[r] = 1;
    for (let s = 0; s < q; s++) if (!((v[s] as number) > 0) || v[s] === Infinity) v[s] = 1;
    for (let r = 0; r < p; r++) F[r] = (F[r] as number) + Math.log(u[r] as number);
    for (let s = 0; s < q; s++) G[s] = (G[s] as number) + Math.log(v[s] as number);
    u.fill(1);
    v.fill(1);
    for (let r = 0; r < p; r++) {
      const base = r * q;
      const fr = F[r] as number;
      for (let s = 0; s < q; s++) Kt[base + s] = Math.exp(fr + (G[s] as number) - (S[base + s] as number));
    }
  };
  const TAU = 1e3; // absorb when a pending scaling leaves [1/TAU, TAU]

  // Start with one exact log-domain iteration (so no row or column of the kernel underflows),
  // then iterate multiplicatively on the absorbed kernel: u = a / (Kt v), v = b / (Kt^T u).
  // The plan returned is the last one with exact columns; its row error is measured by the next
  // row product before that product is used.
  logUpdates();
  absorb();
  let iterations = 1;
  let converged = false;
  for (;;) {
    let err = 0;
    let bad = false;
    for (let r = 0; r < p; r++) {
      const base = r * q;
      let sum = 0;
      for (let s = 0; s < q; s++) sum += (Kt[base + s] as number) * (v[s] as number);
      Kv[r] = sum;
      if (!(sum > 0) || sum === Infinity) bad = true;
      err += Math.abs((u[r] as number) * sum - Math.exp(logA[r] as number));
    }
    if (!bad && err <= tol) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;
    iterations++;
    if (bad) {
      // a scaling left the range the kernel can represent: fall back to an exact log step
      absorb();
      logUpdates();
      absorb();
      continue;
    }
    for (let r = 0; r < p; r++) u[r] = Math.exp(logA[r] as number) / (Kv[r] as number);
    Ku.fill(0);
    for (let r = 0; r < p; r++) {
      const base = r * q;
      const ur = u[r] as number;
      for (let s = 0; s < q; s++) Ku[s] = (Ku[s] as number) + (Kt[base + s] as number) * ur;
    }
    let out = false;
    for (let s = 0; s < q; s++) {
      const k = Ku[s] as number;
      if (!(k > 0) || k === Infinity) {
        out = true;
        break;
      }
      const vs = Math.exp(logB[s] as number) / k;
      v[s] = vs;
      if (vs > TAU || vs < 1 / TAU) out = true;
    }
    if (!out) for (let r = 0; r < p; r++) if ((u[r] as number) > TAU || (u[r] as number) < 1 / TAU) out = true;
    if (out) {
      let finite = true;
      for (let s = 0; s < q; s++) if (!((v[s] as number) > 0) || v[s] === Infinity) finite = false;
      for (let r = 0; r < p; r++) if (!((u[r] as number) > 0) || u[r] === Infinity) finite = false;
      absorb();
      if (!finite) {
        logUpdates();
        absorb();
      }
    }
  }
  absorb();

  const plan = new Matrix(m, n);
  const P = plan.data;
  let cost = 0;
  for (let r = 0; r < p; r++) {
    const i = rows[r] as number;
    for (let s = 0; s < q; s++) {
      const j = cols[s] as number;
      const x = Kt[r * q + s] as number;
      P[i * n + j] = x;
      cost += x * (c[i * n + j] as number);
    }
  }
  let merr = 0;
  for (let i = 0; i < m; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += P[i * n + j] as number;
    merr += Math.abs(sum - (wa[i] as number));
  }
  const cs = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) cs[j] = (cs[j] as number) + (P[i * n + j] as number);
  for (let j = 0; j < n; j++) merr += Math.abs((cs[j] as number) - (wb[j] as number));

  if (!converged && opts.requireConvergence === true) {
    throw new BasisError(
      'NOT_CONVERGED',
      `sinkhorn did not reach tol ${tol} within ${maxIter} iterations (marginal error ${merr.toExponential(3)}); ` +
        'raise maxIter or epsilon',
      { details: { iterations, marginalError: merr } },
    );
  }
  const f = new Float64Array(m).fill(-Infinity);
  const g = new Float64Array(n).fill(-Infinity);
  for (let r = 0; r < p; r++) f[rows[r] as number] = (F[r] as number) * eps + cMin;
  for (let s = 0; s < q; s++) g[cols[s] as number] = (G[s] as number) * eps;
  return { plan, cost, f, g, iterations, marginalError: merr, converged };
}

/** Options of {@link sinkhornBalance}. */
export interface SinkhornBalanceOptions {
  /** Target row sums (default all 1). */
  rowSums?: NumericArrayLike;
  /** Target column sums (default all `m / n`, i.e. 1 for a square matrix). */
  colSums?: NumericArrayLike;
  /** Iteration budget (default 10000). With `tol: 0` exactly this many iterations run. */
  maxIter?: number;
  /** Stop when the L1 row-sum error is at most `tol` (column sums are exact after each step; default 1e-9). */
  tol?: number;
  /** Accept zero entries (the matrix then needs total support to be balanced; default `false`). */
  allowZeros?: boolean;
  /** Throw `NOT_CONVERGED` instead of returning `converged: false` (default `false`). */
  requireConvergence?: boolean;
  /** Relative mismatch accepted between the row and column target totals (default 1e-9). */
  massTolerance?: number;
}

/** Result of {@link sinkhornBalance}. */
export interface SinkhornBalanceResult {
  /** The balanced matrix `diag(rowScale) K diag(colScale)`. */
  matrix: Matrix;
  /** Row scaling factors. */
  rowScale: Float64Array;
  /** Column scaling factors. */
  colScale: Float64Array;
  /** Iterations performed (one = a row and a column normalisation). */
  iterations: number;
  /** L1 error of the row and column sums of `matrix` against the targets. */
  marginalError: number;
  /** Whether the row-sum error reached `tol` within `maxIter` iterations. */
  converged: boolean;
}

/**
 * Sinkhorn-Knopp matrix balancing: scales the rows and columns of a positive matrix `K`,
 * `diag(x) K diag(y)`, so that its rows sum to 1 and its columns to 1 (doubly stochastic, square
 * case) or to given target sums, by alternately normalising rows and columns. A strictly
 * positive matrix always converges (linearly); by default any zero, negative or non-finite entry
 * is rejected (`INVALID_ARGUMENT` / `NON_FINITE_INPUT`). With `allowZeros` a non-negative matrix is
 * accepted, but an all-zero row or column throws `INFEASIBLE`, and a matrix without total support
 * may end with `converged: false`. Targets must be non-negative with equal totals (`INFEASIBLE`
 * otherwise); a rectangular `m x n` matrix gets column targets `m / n` by default.
 *
 * @example
 * ```ts
 * import { sinkhornBalance } from '@basis/tensor';
 * const r = sinkhornBalance([[1, 2], [3, 4]]);
 * r.matrix.toArray(); // rows and columns each sum to 1 (to 1e-9)
 * ```
 */
export function sinkhornBalance(K: MatrixLike, opts: SinkhornBalanceOptions = {}): SinkhornBalanceResult {
  const M = asMatrix(K);
  const m = M.rows;
  const n = M.cols;
  if (m === 0 || n === 0) {
    throw new BasisError('TOO_SMALL', `K is empty (${m} x ${n}); balancing needs at least one row and column`);
  }
  const maxIter = checkIterations(opts.maxIter, 'maxIter', 10000);
  const tol = checkTol(opts.tol, 'tol', 1e-9);
  const massTol = checkTol(opts.massTolerance, 'massTolerance', 1e-9);
  const allowZeros = opts.allowZeros ?? false;
  const k = M.data;
  for (let t = 0; t < k.length; t++) {
    const v = k[t] as number;
    const i = Math.floor(t / n);
    const j = t - i * n;
    if (!Number.isFinite(v)) {
      throw new BasisError('NON_FINITE_INPUT', `K[${i}, ${j}] is ${v}; K must be finite`, {
        details: { row: i, col: j, value: v },
      });
    }
    if (v < 0 || (v === 0 && !allowZeros)) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `K[${i}, ${j}] is ${v}; sinkhornBalance needs a strictly positive matrix` +
          (v === 0 ? ' (pass allowZeros: true for a non-negative matrix with total support)' : ''),
        { details: { row: i, col: j, value: v } },
      );
    }
  }
  const r = opts.rowSums === undefined ? new Float64Array(m).fill(1) : checkMarginal(opts.rowSums, 'rowSums', m, 'rows');
  const c =
    opts.colSums === undefined ? new Float64Array(n).fill(m / n) : checkMarginal(opts.colSums, 'colSums', n, 'columns');
  checkMasses(r, c, massTol);
  const rowTot = new Float64Array(m);
  const colTot = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = k[i * n + j] as number;
      rowTot[i] = (rowTot[i] as number) + v;
      colTot[j] = (colTot[j] as number) + v;
    }
  }
  for (let i = 0; i < m; i++) {
    if (rowTot[i] === 0 && (r[i] as number) > 0) {
      throw new BasisError('INFEASIBLE', `Row ${i} of K is all zeros but its target sum is ${r[i]}; no scaling can balance it`);
    }
  }
  for (let j = 0; j < n; j++) {
    if (colTot[j] === 0 && (c[j] as number) > 0) {
      throw new BasisError('INFEASIBLE', `Column ${j} of K is all zeros but its target sum is ${c[j]}; no scaling can balance it`);
    }
  }

  const x = new Float64Array(m);
  const y = new Float64Array(n).fill(1);
  const ky = new Float64Array(m);
  const kx = new Float64Array(n);
  /** `ky = K y`; returns the L1 row-sum error of the current scaling. */
  const rowPass = (): number => {
    let err = 0;
    for (let i = 0; i < m; i++) {
      const base = i * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += (k[base + j] as number) * (y[j] as number);
      ky[i] = s;
      err += Math.abs((x[i] as number) * s - (r[i] as number));
    }
    return err;
  };
  const colUpdate = (): void => {
    kx.fill(0);
    for (let i = 0; i < m; i++) {
      const base = i * n;
      const xi = x[i] as number;
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) kx[j] = (kx[j] as number) + (k[base + j] as number) * xi;
    }
    for (let j = 0; j < n; j++) y[j] = (kx[j] as number) > 0 ? (c[j] as number) / (kx[j] as number) : 0;
  };

  let converged = false;
  let iterations = 0;
  for (;;) {
    const err = rowPass();
    if (iterations > 0 && err <= tol) {
      converged = true;
      break;
    }
    if (iterations >= maxIter) break;
    for (let i = 0; i < m; i++) x[i] = (ky[i] as number) > 0 ? (r[i] as number) / (ky[i] as number) : 0;
    colUpdate();
    iterations++;
  }

  const out = new Matrix(m, n);
  const P = out.data;
  for (let i = 0; i < m; i++) {
    const xi = x[i] as number;
    for (let j = 0; j < n; j++) P[i * n + j] = xi * (k[i * n + j] as number) * (y[j] as number);
  }
  let merr = 0;
  const cs = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = P[i * n + j] as number;
      s += v;
      cs[j] = (cs[j] as number) + v;
    }
    merr += Math.abs(s - (r[i] as number));
  }
  for (let j = 0; j < n; j++) merr += Math.abs((cs[j] as number) - (c[j] as number));
  if (!converged && opts.requireConvergence === true) {
    throw new BasisError(
      'NOT_CONVERGED',
      `sinkhornBalance did not reach tol ${tol} within ${maxIter} iterations (marginal error ${merr.toExponential(3)}); ` +
        'raise maxIter (a matrix with zeros may lack total support)',
      { details: { iterations, marginalError: merr } },
    );
  }
  return { matrix: out, rowScale: x, colScale: y, iterations, marginalError: merr, converged };
}
