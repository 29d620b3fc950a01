import { BasisError, Matrix, corrMatrix, createRng, crossprod, linearSumAssignment, shuffle, sinkhorn, svd, type Rng } from '@basis/tensor';
import {
  GroupElement,
  act,
  actTrusted,
  canonicalize,
  transformFeature,
  composeAssignments,
  groupUsage,
  hasPermutations,
  invertAssignment,
  isMonomialGroup,
  toParams,
  validateSpec,
  type Assignment,
  type GroupDecl,
  type SymmetrySpec,
  type Tensor,
  type TensorLike,
} from '@basis/symmetry';

/** How one group's step is solved: exact assignment, or entropic OT (Sinkhorn) rounded by assignment. */
export type MatchSolver = 'lsap' | 'sinkhorn';

/** Options shared by weight and activation matching. */
export interface MatchOptions {
  /** Only these groups (default: every group matching can handle). */
  groups?: readonly string[];
  /** Align modulo scale and sign first (canonical forms; default true for groups with scalings or signs). */
  canonical?: boolean;
  /** Align GL/orthogonal groups with orthogonal Procrustes (default true). */
  orthogonal?: boolean;
  /** Per-step solver (default 'lsap'). */
  solver?: MatchSolver;
  /** Sinkhorn temperature relative to the spread of the cost (default 0.01). */
  temperature?: number;
}

/** Options of {@link weightMatching}. */
export interface WeightMatchingOptions extends MatchOptions {
  /** Sweep cap (default 100). */
  maxSweeps?: number;
  /** Random visiting order of the groups in each sweep (default `createRng(0)`). */
  rng?: Rng;
  /** Starting elements (default identity). */
  init?: Assignment;
}

/** Result of a matching: the element per group that moves B onto A, and B moved. */
export interface MatchResult {
  /** Elements acting on B (in B's original parameterisation): `act(B, spec, assignment)` = `params`. */
  assignment: Record<string, GroupElement>;
  /** B aligned to A (functionally identical to B). */
  params: Record<string, Tensor>;
  /** The groups that were matched and how. */
  matched: Array<{ group: string; kind: GroupDecl['kind']; how: 'permutation' | 'block-permutation' | 'orthogonal' }>;
  /** Weight matching: `Σ <A, B'>` over every spec'd tensor after each sweep (index 0: before matching). Empty for activation matching. */
  objective: number[];
  /** Sweeps run (weight matching). */
  sweeps: number;
  /** Whether the last sweep changed nothing. */
  converged: boolean;
}

type How = MatchResult['matched'][number]['how'];

function howFor(decl: GroupDecl, orthogonal: boolean): How | null {
  if (decl.kind === 'block-permutation') return 'block-permutation';
  if (hasPermutations(decl.kind) && isMonomialGroup(decl.kind)) return 'permutation';
  if ((decl.kind === 'orthogonal' || decl.kind === 'invertible') && orthogonal) return 'orthogonal';
  return null;
}

/**
 * The columns of `t` that belong to each unit of a group along `axis`: a `rows x units` matrix
 * where unit `i` owns axis entries `i*repeat .. i*repeat+repeat-1`; every other index becomes a row.
 */
export function unfold(t: Tensor, axis: number, units: number, repeat: number): Matrix {
  const dim = t.shape[axis] as number;
  if (dim !== units * repeat) throw new BasisError('SHAPE_MISMATCH', `axis ${axis} has ${dim} entries, not ${units} x ${repeat}`);
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= t.shape[a] as number;
  let inner = 1;
  for (let a = axis + 1; a < t.shape.length; a++) inner *= t.shape[a] as number;
  const L = repeat * inner;
  const rows = outer * L;
  const m = new Matrix(rows, units);
  const src = t.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < units; i++) {
      const from = o * units * L + i * L;
      for (let k = 0; k < L; k++) m.data[(o * L + k) * units + i] = src[from + k] as number;
    }
  }
  return m;
}

/** Units and repeat of a group for matching (blocks count as units for block permutations). */
function unitsOf(decl: GroupDecl, repeat: number): { units: number; repeat: number } {
  if (decl.kind === 'block-permutation') {
    const b = decl.blockSize as number;
    return { units: decl.size / b, repeat: repeat * b };
  }
  return { units: decl.size, repeat };
}

/** The element maximising `<X, C>` over the group's matchable subgroup. */
function solveStep(C: Matrix, decl: GroupDecl, how: How, opts: MatchOptions): GroupElement {
  if (how === 'orthogonal') {
    const f = svd(C);
    const n = C.rows;
    const q = new Matrix(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < f.s.length; k++) s += f.U.get(i, k) * f.V.get(j, k);
        q.data[i * n + j] = s;
      }
    return GroupElement.dense(q, { orthogonalTol: 1e-8 });
  }
  let src: Int32Array;
  if ((opts.solver ?? 'lsap') === 'sinkhorn') {
    // entropic relaxation: plan of the OT problem with cost -C, then rounded to a permutation
    const n = C.rows;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of C.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const spread = hi - lo > 0 ? hi - lo : 1;
    const cost = new Matrix(n, n, C.data.map((v) => (hi - v) / spread));
    const uniform = new Float64Array(n).fill(1 / n);
    const plan = sinkhorn(uniform, uniform, cost, { epsilon: opts.temperature ?? 0.01, maxIter: 2000, tol: 1e-6 }).plan;
    src = linearSumAssignment(plan, { maximize: true }).colInd;
  } else {
    src = linearSumAssignment(C, { maximize: true }).colInd;
  }
  if (how === 'block-permutation') {
    const b = decl.blockSize as number;
    const full = new Int32Array(decl.size);
    for (let k = 0; k < src.length; k++) for (let r = 0; r < b; r++) full[k * b + r] = (src[k] as number) * b + r;
    return GroupElement.permutation(full);
  }
  return GroupElement.permutation(src);
}

/** `Σ <A, B>` over the tensors a spec names. */
function objective(A: Record<string, Tensor>, B: Record<string, Tensor>, spec: SymmetrySpec): number {
  let s = 0;
  for (const name of Object.keys(spec.axes)) {
    const a = (A[name] as Tensor).data;
    const b = (B[name] as Tensor).data;
    for (let k = 0; k < a.length; k++) s += (a[k] as number) * (b[k] as number);
  }
  return s;
}

interface Prepared {
  spec: SymmetrySpec;
  A: Record<string, Tensor>;
  B: Record<string, Tensor>;
  /** B's canonicalising elements and the inverse of A's, to compose the final assignment. */
  toCanonB: Record<string, GroupElement>;
  toCanonA: Record<string, GroupElement>;
  fromCanonA: Record<string, GroupElement>;
  groups: Array<{ name: string; decl: GroupDecl; how: How }>;
}

function prepare(paramsA: Readonly<Record<string, TensorLike>>, paramsB: Readonly<Record<string, TensorLike>>, spec: SymmetrySpec, opts: MatchOptions): Prepared {
  validateSpec(spec);
  let A = toParams(paramsA, 'paramsA');
  let B = toParams(paramsB, 'paramsB');
  for (const name of Object.keys(spec.axes)) {
    const a = A[name];
    const b = B[name];
    if (a === undefined || b === undefined) throw new BasisError('INVALID_ARGUMENT', `parameter '${name}' of the spec is missing from ${a === undefined ? 'A' : 'B'}`);
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${name}' has shape [${a.shape.join(', ')}] in A but [${b.shape.join(', ')}] in B; matching needs models of the same architecture`);
    }
  }
  const names = opts.groups ?? Object.keys(spec.groups);
  const groups: Prepared['groups'] = [];
  for (const name of names) {
    const decl = spec.groups[name];
    if (decl === undefined) throw new BasisError('INVALID_ARGUMENT', `unknown group '${name}'`);
    const how = howFor(decl, opts.orthogonal ?? true);
    if (how !== null) groups.push({ name, decl, how });
  }
  if (groups.length === 0) throw new BasisError('INVALID_ARGUMENT', 'no group of the spec can be matched (need permutation-type, orthogonal or GL groups)');
  let toCanonB: Record<string, GroupElement> = {};
  let toCanonA: Record<string, GroupElement> = {};
  let fromCanonA: Record<string, GroupElement> = {};
  if (opts.canonical ?? true) {
    const ca = canonicalize(A, spec, { groups: groups.map((g) => g.name) });
    const cb = canonicalize(B, spec, { groups: groups.map((g) => g.name) });
    A = ca.params;
    B = cb.params;
    toCanonB = cb.assignment;
    toCanonA = ca.assignment;
    fromCanonA = invertAssignment(ca.assignment);
  }
  return { spec, A, B, toCanonB, toCanonA, fromCanonA, groups };
}

function finish(p: Prepared, paramsB: Readonly<Record<string, TensorLike>>, perm: Record<string, GroupElement>, objectiveHistory: number[], sweeps: number, converged: boolean): MatchResult {
  // B -> canonical B -> permuted -> A's gauge
  const assignment = composeAssignments(p.fromCanonA, composeAssignments(perm, p.toCanonB));
  const params = act(paramsB, p.spec, assignment, { tol: 1e-6 });
  return { assignment, params, matched: p.groups.map((g) => ({ group: g.name, kind: g.decl.kind, how: g.how })), objective: objectiveHistory, sweeps, converged };
}

/**
 * Weight matching (Git Re-Basin's permutation coordinate descent, seeds-spec C4) through any
 * symmetry spec: for each matchable group in random order, solve `max_P Σ <A, P·B>` over every
 * tensor axis the group acts on (weights, biases, batchnorm parameters and statistics, conv
 * channels, flattened maps, tied residual streams, attention heads as blocks), with the other
 * groups fixed; repeat until a sweep changes nothing or `maxSweeps`. Groups with scalings/signs are
 * first brought to canonical form (alignment modulo G_ReLU), GL/orthogonal groups are aligned by
 * orthogonal Procrustes. The objective is recorded per sweep and never decreases.
 *
 * @example
 * ```ts
 * import { weightMatching } from '@basis/connectivity';
 * const { params: bAligned, objective } = weightMatching(paramsA, paramsB, spec);
 * ```
 */
export function weightMatching(
  paramsA: Readonly<Record<string, TensorLike>>,
  paramsB: Readonly<Record<string, TensorLike>>,
  spec: SymmetrySpec,
  opts: WeightMatchingOptions = {},
): MatchResult {
  const p = prepare(paramsA, paramsB, spec, opts);
  const maxSweeps = opts.maxSweeps ?? 100;
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) throw new BasisError('CONFIG_INVALID', `maxSweeps must be a positive integer, got ${maxSweeps}`);
  const rng = opts.rng ?? createRng(0);
  const current: Record<string, GroupElement> = {};
  for (const g of p.groups) current[g.name] = opts.init?.[g.name] ?? GroupElement.identity(g.decl.size);
  const history = [objective(p.A, actTrusted(p.B, spec, current), spec)];
  let sweeps = 0;
  let converged = false;
  const order = p.groups.map((_, i) => i);
  // each step needs only the tensors its group acts on (with the other groups applied)
  const local = new Map<string, SymmetrySpec>();
  for (const g of p.groups) {
    const names = new Set(groupUsage(spec, g.name).map((u) => u.param));
    local.set(g.name, { ...spec, axes: Object.fromEntries(Object.entries(spec.axes).filter(([k]) => names.has(k))) });
  }
  const pick = (params: Record<string, Tensor>, sub: SymmetrySpec): Record<string, Tensor> => Object.fromEntries(Object.keys(sub.axes).map((k) => [k, params[k] as Tensor]));
  while (sweeps < maxSweeps) {
    sweeps++;
    shuffle(order, rng);
    let changed = false;
    for (const gi of order) {
      const g = p.groups[gi] as Prepared['groups'][number];
      const others: Record<string, GroupElement> = { ...current };
      delete others[g.name];
      const sub = local.get(g.name) as SymmetrySpec;
      const Bx = actTrusted(pick(p.B, sub), sub, others);
      const C = costMatrix(p.A, Bx, spec, g.name, g.decl);
      const next = solveStep(C, g.decl, g.how, opts);
      const prev = current[g.name] as GroupElement;
      // keep the current element unless the new one is strictly better (ties keep the warm start)
      const score = (el: GroupElement): number => stepScore(C, el, g.decl);
      if (score(next) > score(prev) + 1e-12 * Math.max(1, Math.abs(score(prev)))) {
        current[g.name] = next;
        changed = true;
      }
    }
    history.push(objective(p.A, actTrusted(p.B, spec, current), spec));
    if (!changed) {
      converged = true;
      break;
    }
  }
  return finish(p, paramsB, current, history, sweeps, converged);
}

/** `<C, X>` for the step's element X (in block units for block permutations). */
function stepScore(C: Matrix, el: GroupElement, decl: GroupDecl): number {
  if (el.isMonomial) {
    const src = el.src as Int32Array;
    if (decl.kind === 'block-permutation') {
      const b = decl.blockSize as number;
      let s = 0;
      for (let k = 0; k < C.rows; k++) s += C.get(k, (src[k * b] as number) / b);
      return s;
    }
    let s = 0;
    for (let i = 0; i < C.rows; i++) s += C.get(i, src[i] as number) * ((el.scale as Float64Array)[i] as number);
    return s;
  }
  const m = el.toMatrix().data;
  let s = 0;
  for (let k = 0; k < m.length; k++) s += (m[k] as number) * (C.data[k] as number);
  return s;
}

/** `C[i, j] = Σ <A's slice of unit i, B's slice of unit j>` over every axis the group acts on. */
export function costMatrix(A: Record<string, Tensor>, B: Record<string, Tensor>, spec: SymmetrySpec, group: string, decl: GroupDecl): Matrix {
  let C: Matrix | undefined;
  for (const { param, axis, role } of groupUsage(spec, group)) {
    const { units, repeat } = unitsOf(decl, role.repeat ?? 1);
    const ua = unfold(A[param] as Tensor, axis, units, repeat);
    const ub = unfold(B[param] as Tensor, axis, units, repeat);
    const c = crossprod(ua, ub);
    if (C === undefined) C = c;
    else for (let k = 0; k < C.data.length; k++) C.data[k] = (C.data[k] as number) + (c.data[k] as number);
  }
  if (C === undefined) throw new BasisError('INVALID_ARGUMENT', `group '${group}' acts on no tensor`);
  return C;
}

/** Features of both models at the spec's declared capture points, by feature name. */
export type FeaturePairs = Readonly<Record<string, { readonly a: TensorLike; readonly b: TensorLike }>>;

/** Options of {@link activationMatching}. */
export interface ActivationMatchingOptions extends MatchOptions {
  /** Match on Pearson correlations instead of raw inner products (default true: scale-free). */
  correlation?: boolean;
}

/**
 * Activation matching (seeds-spec C5) through a spec: for each matchable group, the features the
 * spec declares for it (both models on the same inputs; a tied stream has several) give
 * `C = Σ Z_Aᵀ Z_B` (or the correlation matrix), and the permutation maximising `<P, C>` (or the
 * orthogonal Procrustes solution) aligns B's units to A's. Groups are independent, so no sweeps.
 *
 * @example
 * ```ts
 * const r = activationMatching(paramsA, paramsB, spec, { 'layers.1': { a: hA, b: hB } });
 * ```
 */
export function activationMatching(
  paramsA: Readonly<Record<string, TensorLike>>,
  paramsB: Readonly<Record<string, TensorLike>>,
  spec: SymmetrySpec,
  features: FeaturePairs,
  opts: ActivationMatchingOptions = {},
): MatchResult {
  const p = prepare(paramsA, paramsB, spec, opts);
  const perm: Record<string, GroupElement> = {};
  const declared = spec.features ?? {};
  for (const g of p.groups) {
    let C: Matrix | undefined;
    for (const [name, role] of Object.entries(declared)) {
      if (role.group !== g.name) continue;
      const pair = features[name];
      if (pair === undefined) continue;
      const { units, repeat } = unitsOf(g.decl, role.repeat ?? 1);
      // features of the canonical models: the canonicalising scales move them like any element
      const fa = transformFeature(toTensorChecked(pair.a, `features['${name}'].a`), spec, name, p.toCanonA);
      const fb = transformFeature(toTensorChecked(pair.b, `features['${name}'].b`), spec, name, p.toCanonB);
      const za = unfold(fa, role.axis ?? 1, units, repeat);
      const zb = unfold(fb, role.axis ?? 1, units, repeat);
      if (za.rows !== zb.rows) throw new BasisError('SHAPE_MISMATCH', `feature '${name}': A has ${za.rows} rows but B has ${zb.rows}; capture both models on the same inputs`);
      if (za.rows < 2) throw new BasisError('TOO_SMALL', `feature '${name}' has ${za.rows} row(s); activation matching needs several inputs`);
      const c = (opts.correlation ?? true) ? corrMatrix(za, zb).corr : crossprod(za, zb);
      if (C === undefined) C = c;
      else for (let k = 0; k < C.data.length; k++) C.data[k] = (C.data[k] as number) + (c.data[k] as number);
    }
    if (C === undefined) {
      throw new BasisError('INVALID_ARGUMENT', `no features given for group '${g.name}'; pass the features the spec declares for it (${Object.entries(declared).filter(([, r]) => r.group === g.name).map(([n]) => n).join(', ') || 'none declared'})`);
    }
    perm[g.name] = solveStep(C, g.decl, g.how, opts);
  }
  return finish(p, paramsB, perm, [], 0, true);
}

function toTensorChecked(t: TensorLike, what: string): Tensor {
  return toParams({ [what]: t })[what] as Tensor;
}

/** Result of {@link mergeModels}. */
export interface MergeResult {
  /** The average of the aligned models. */
  params: Record<string, Tensor>;
  /** Every model aligned to the reference (the first is the reference itself). */
  aligned: Array<Record<string, Tensor>>;
  /** Weight-matching sweeps per model (0 for the reference). */
  sweeps: number[];
}

/**
 * Merges several models of one architecture: each is weight-matched to the first (through the
 * spec, modulo G_ReLU where the groups allow), then all are averaged parameter by parameter —
 * "merging = averaging aligned models" (Git Re-Basin, ZipIt's baseline). With `rounds > 1` every
 * model is re-matched to the current average, which reduces the bias towards the first model.
 * For batchnorm models re-estimate the statistics of the merge (`resetBatchNorm`) before use.
 *
 * @example
 * ```ts
 * const merged = mergeModels([A, B, C], spec, { rounds: 2 }).params;
 * ```
 */
export function mergeModels(models: ReadonlyArray<Readonly<Record<string, TensorLike>>>, spec: SymmetrySpec, opts: WeightMatchingOptions & { rounds?: number } = {}): MergeResult {
  const list: ReadonlyArray<Readonly<Record<string, TensorLike>>> = models;
  const count = Array.isArray(list) ? list.length : 0;
  if (count < 2) throw new BasisError('TOO_SMALL', `mergeModels needs at least 2 models, got ${count}`);
  const rounds = opts.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new BasisError('CONFIG_INVALID', `rounds must be a positive integer, got ${rounds}`);
  const all = list.map((m, i) => toParams(m, `models[${i}]`));
  let reference = all[0] as Record<string, Tensor>;
  let aligned: Array<Record<string, Tensor>> = [];
  let sweeps: number[] = [];
  let mean: Record<string, Tensor> = reference;
  for (let r = 0; r < rounds; r++) {
    aligned = [];
    sweeps = [];
    all.forEach((m, i) => {
      if (r === 0 && i === 0) {
        aligned.push(m);
        sweeps.push(0);
        return;
      }
      const res = weightMatching(reference, m, spec, opts);
      aligned.push(res.params);
      sweeps.push(res.sweeps);
    });
    mean = {};
    for (const k of Object.keys(all[0] as Record<string, Tensor>)) {
      const first = (aligned[0] as Record<string, Tensor>)[k] as Tensor;
      const acc = new Float64Array(first.data.length);
      for (const m of aligned) {
        const d = (m[k] as Tensor).data;
        for (let j = 0; j < acc.length; j++) acc[j] = (acc[j] as number) + (d[j] as number);
      }
      for (let j = 0; j < acc.length; j++) acc[j] = (acc[j] as number) / aligned.length;
      mean[k] = { shape: first.shape, data: acc };
    }
    reference = mean;
  }
  return { params: mean, aligned, sweeps };
}
