import { BasisError, type Rng } from '@basis/tensor';
import { GroupElement } from './elements.js';
import { applyPhi, membershipDefect, sampleElement, type SampleOptions } from './groups.js';
import { validateSpec, type AxisRoleKind, type SymmetrySpec } from './spec.js';
import { applyAxisMap, toParams, toTensor, type AxisMap, type Tensor, type TensorLike } from './tensor.js';

/** Group elements by group name. Groups left out act as the identity. */
export type Assignment = Readonly<Record<string, GroupElement>>;

/** Options of {@link act}. */
export interface ActOptions {
  /** Check every element belongs to its declared group (default true). */
  checkMembership?: boolean;
  /** Tolerance of the membership check (default 1e-9). */
  tol?: number;
}

/** The per-role axis maps of one element: A, (φ(A)⁻¹)ᵀ and the permutation part. */
class RoleMaps {
  private readonly cache = new Map<AxisRoleKind, AxisMap>();
  constructor(
    private readonly A: GroupElement,
    private readonly phi: Parameters<typeof applyPhi>[0],
  ) {}
  get(role: AxisRoleKind): AxisMap {
    let m = this.cache.get(role);
    if (m === undefined) {
      const el = role === 'out' ? this.A : role === 'in' ? applyPhi(this.phi, this.A).inverse().transpose() : this.A.permutationPart();
      m = el.axisMap();
      this.cache.set(role, m);
    }
    return m;
  }
}

/**
 * Acts on named parameters with an assignment of group elements (S003 Prop. 3.4 generalised to
 * any spec): every `'out'` axis is multiplied by A, every `'in'` axis by φ(A)⁻¹ on the right, every
 * `'perm'` axis by A's permutation part; tied axes (one group name) share one A. Returns new
 * parameters (inputs are not modified); parameters the spec does not mention are copied by
 * reference. Throws INVALID_ARGUMENT for unknown group names, sizes that do not match or elements
 * outside their group, SHAPE_MISMATCH when a parameter's axes do not fit the spec.
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * import { act, denseChainSpec, sampleAssignment } from '@basis/symmetry';
 * const spec = denseChainSpec([{ weight: 'w1', bias: 'b1' }, { weight: 'w2' }], [8], { kind: 'positive-monomial' });
 * const moved = act(params, spec, sampleAssignment(spec, createRng(0))); // same function, new weights
 * ```
 */
export function act(params: Readonly<Record<string, TensorLike>>, spec: SymmetrySpec, assignment: Assignment, opts: ActOptions = {}): Record<string, Tensor> {
  validateSpec(spec);
  const p = toParams(params);
  const maps = new Map<string, RoleMaps>();
  const tol = opts.tol ?? 1e-9;
  for (const [name, A] of Object.entries(assignment)) {
    const decl = spec.groups[name];
    if (decl === undefined) {
      throw new BasisError('INVALID_ARGUMENT', `assignment names group '${name}', which the spec does not declare (groups: ${Object.keys(spec.groups).join(', ')})`);
    }
    if (!(A instanceof GroupElement)) throw new BasisError('INVALID_ARGUMENT', `assignment['${name}'] must be a GroupElement`);
    if (A.n !== decl.size) throw new BasisError('INVALID_ARGUMENT', `assignment['${name}'] acts on ${A.n} units but group '${name}' has ${decl.size}`);
    if (opts.checkMembership ?? true) {
      const why = membershipDefect(decl, A, tol);
      if (why !== undefined) throw new BasisError('INVALID_ARGUMENT', `assignment['${name}'] is not in group '${name}' (${decl.kind}): it ${why}`);
    }
    maps.set(name, new RoleMaps(A, decl.phi));
  }
  checkSpecShapes(p, spec);
  return applyMaps(p, spec, maps);
}

function applyMaps(p: Readonly<Record<string, Tensor>>, spec: SymmetrySpec, maps: Map<string, RoleMaps>): Record<string, Tensor> {
  const out: Record<string, Tensor> = { ...p };
  for (const [param, roles] of Object.entries(spec.axes)) {
    let t = p[param] as Tensor;
    let moved = false;
    roles.forEach((r, axis) => {
      if (r === null) return;
      const m = maps.get(r.group);
      if (m === undefined) return;
      t = applyAxisMap(t, axis, m.get(r.role), r.repeat ?? 1);
      moved = true;
    });
    if (moved) out[param] = t;
  }
  return out;
}

/**
 * {@link act} without any validation, for inner loops (matching, canonical forms) over
 * parameters and elements that were validated once before. Wrong inputs give wrong results.
 *
 * @example
 * ```ts
 * checkSpecShapes(params, spec);
 * for (const asg of candidates) score(actTrusted(params, spec, asg));
 * ```
 */
export function actTrusted(params: Readonly<Record<string, Tensor>>, spec: SymmetrySpec, assignment: Assignment): Record<string, Tensor> {
  const maps = new Map<string, RoleMaps>();
  for (const [name, A] of Object.entries(assignment)) maps.set(name, new RoleMaps(A, (spec.groups[name] as { phi?: Parameters<typeof applyPhi>[0] }).phi));
  return applyMaps(params, spec, maps);
}

/**
 * Checks that every parameter the spec names exists, has as many axes as the spec lists, and that
 * each listed axis has length `size × repeat` of its group. Throws INVALID_ARGUMENT (missing
 * parameter) or SHAPE_MISMATCH naming the parameter, axis and group.
 *
 * @example
 * ```ts
 * checkSpecShapes(params, spec); // throws before any training run if the spec does not fit
 * ```
 */
export function checkSpecShapes(params: Readonly<Record<string, Tensor>>, spec: SymmetrySpec): void {
  for (const [param, roles] of Object.entries(spec.axes)) {
    const t = params[param];
    if (t === undefined) {
      throw new BasisError('INVALID_ARGUMENT', `the spec acts on parameter '${param}', which params does not have; pass the model's full parameter dictionary`);
    }
    if (t.shape.length !== roles.length) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${param}' has ${t.shape.length} axes [${t.shape.join(', ')}] but the spec lists ${roles.length}`);
    }
    roles.forEach((r, axis) => {
      if (r === null) return;
      const size = (spec.groups[r.group] as { size: number }).size;
      const want = size * (r.repeat ?? 1);
      if (t.shape[axis] !== want) {
        throw new BasisError(
          'SHAPE_MISMATCH',
          `parameter '${param}' axis ${axis} has length ${t.shape[axis]} but group '${r.group}' acts on ${size} units${(r.repeat ?? 1) > 1 ? ` x ${r.repeat} (repeat)` : ''} = ${want}`,
        );
      }
    });
  }
}

/**
 * Transforms a feature tensor the way the spec declares for it (A, φ(A) or A's permutation part along its unit axis).
 *
 * @example
 * ```ts
 * const expected = transformFeature(hidden, spec, 'hidden.0.post', assignment); // φ(A) applied to each row
 * ```
 */
export function transformFeature(feature: TensorLike, spec: SymmetrySpec, name: string, assignment: Assignment): Tensor {
  const f = spec.features?.[name];
  if (f === undefined) throw new BasisError('INVALID_ARGUMENT', `the spec declares no feature '${name}'`);
  const t = toTensor(feature, `feature '${name}'`);
  const A = assignment[f.group];
  if (A === undefined) return t;
  const decl = spec.groups[f.group]!;
  const el = f.transform === 'A' ? A : f.transform === 'perm' ? A.permutationPart() : applyPhi(decl.phi, A);
  return applyAxisMap(t, f.axis ?? 1, el.axisMap(), f.repeat ?? 1);
}

/**
 * A random element for every group of the spec (or only `groups`), drawn in the spec's group
 * order from `rng`.
 *
 * @example
 * ```ts
 * const assignment = sampleAssignment(spec, createRng(1), { scaleSigma: 0.5 });
 * ```
 */
export function sampleAssignment(spec: SymmetrySpec, rng: Rng, opts: SampleOptions & { groups?: readonly string[] } = {}): Record<string, GroupElement> {
  validateSpec(spec);
  const names = opts.groups ?? Object.keys(spec.groups);
  const out: Record<string, GroupElement> = {};
  for (const name of names) {
    const decl = spec.groups[name];
    if (decl === undefined) throw new BasisError('INVALID_ARGUMENT', `unknown group '${name}'; the spec declares ${Object.keys(spec.groups).join(', ')}`);
    out[name] = sampleElement(decl, rng, opts);
  }
  return out;
}

/** Composes two assignments group by group: `(a ∘ b)[g] = a[g] · b[g]` (act with b first). */
export function composeAssignments(a: Assignment, b: Assignment): Record<string, GroupElement> {
  const out: Record<string, GroupElement> = { ...b };
  for (const [g, A] of Object.entries(a)) {
    const B = b[g];
    out[g] = B === undefined ? A : A.compose(B);
  }
  return out;
}

/** The inverse assignment (acting with it undoes the action). */
export function invertAssignment(a: Assignment): Record<string, GroupElement> {
  return Object.fromEntries(Object.entries(a).map(([g, A]) => [g, A.inverse()]));
}
