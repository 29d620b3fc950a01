import { BasisError, createRng, haarOrthogonal, orthogonalPower, type Rng } from '@basis/tensor';
import { act, actTrusted, composeAssignments } from './action.js';
import { GroupElement } from './elements.js';
import { hasScaling, hasSigns } from './groups.js';
import { validateSpec, groupUsage, type SymmetrySpec } from './spec.js';
import { toParams, type Tensor, type TensorLike } from './tensor.js';

/** Options of {@link canonicalize}. */
export interface CanonicalOptions {
  /** Normalise positive scales (default true where the group has them). */
  scale?: boolean;
  /** Fix signs (default true where the group has them). */
  sign?: boolean;
  /** Only these groups (default: every group with scales or signs). */
  groups?: readonly string[];
  /** Stop when every unit's correction is within `tol` of 1 (default 1e-14). */
  tol?: number;
  /** Sweep cap (default 500); tied residual streams need several sweeps. */
  maxSweeps?: number;
}

/** Result of {@link canonicalize}. */
export interface CanonicalResult {
  /** Functionally identical parameters in canonical form. */
  params: Record<string, Tensor>;
  /** The elements that were applied, per group (compose with their inverses to go back). */
  assignment: Record<string, GroupElement>;
  /** Sweeps over the groups until nothing changed (2 for a feedforward chain in forward order: one that normalises, one that confirms). */
  sweeps: number;
  /** Whether the last sweep changed nothing (false when `maxSweeps` stopped it). */
  converged: boolean;
}

/**
 * Incoming vector of every unit of a group: the concatenation, over the group's `'out'` axes, of
 * the entries indexed by that unit (its weight row, bias, BN γ and β), as a list per unit.
 */
function incoming(params: Record<string, Tensor>, spec: SymmetrySpec, group: string, size: number): number[][] {
  const vecs: number[][] = Array.from({ length: size }, () => []);
  for (const { param, axis, role } of groupUsage(spec, group)) {
    if (role.role !== 'out') continue;
    const t = params[param] as Tensor;
    const r = role.repeat ?? 1;
    let outer = 1;
    for (let a = 0; a < axis; a++) outer *= t.shape[a] as number;
    let inner = 1;
    for (let a = axis + 1; a < t.shape.length; a++) inner *= t.shape[a] as number;
    const L = r * inner;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < size; i++) {
        const start = o * size * L + i * L;
        const v = vecs[i] as number[];
        for (let k = 0; k < L; k++) v.push(t.data[start + k] as number);
      }
    }
  }
  return vecs;
}

/**
 * Canonical form modulo scaling and/or signs (so alignment can work modulo G_ReLU, not only
 * modulo permutations): for every group with positive scalings each unit's incoming vector
 * (weight row, bias, normalisation γ/β — every `'out'` axis) is scaled to unit Euclidean norm;
 * for groups with sign flips each unit's largest-magnitude incoming entry is made positive.
 * Dead units (all-zero incoming vectors) are left as they are. The network function is unchanged.
 *
 * @example
 * ```ts
 * import { canonicalize } from '@basis/symmetry';
 * const { params: canon } = canonicalize(params, spec); // every ReLU unit's incoming weights now have norm 1
 * ```
 */
export function canonicalize(params: Readonly<Record<string, TensorLike>>, spec: SymmetrySpec, opts: CanonicalOptions = {}): CanonicalResult {
  validateSpec(spec);
  let p = toParams(params);
  const names = (opts.groups ?? Object.keys(spec.groups)).filter((g) => {
    const d = spec.groups[g];
    if (d === undefined) throw new BasisError('INVALID_ARGUMENT', `canonicalize: unknown group '${g}'`);
    return (hasScaling(d.kind) && opts.scale !== false) || (hasSigns(d.kind) && opts.sign !== false);
  });
  // make sure every spec'd parameter exists before reading it
  p = act(p, spec, {});
  let total: Record<string, GroupElement> = {};
  let sweeps = 0;
  let converged = false;
  // a feedforward chain settles in one sweep; tied residual streams couple groups in a cycle
  // (stream -> block -> stream), where the alternating normalisation converges geometrically
  const maxSweeps = opts.maxSweeps ?? 500;
  const tol = opts.tol ?? 1e-14;
  for (; sweeps < maxSweeps; sweeps++) {
    let changed = false;
    for (const g of names) {
      const decl = spec.groups[g]!;
      const vecs = incoming(p, spec, g, decl.size);
      const s = new Float64Array(decl.size).fill(1);
      for (let i = 0; i < decl.size; i++) {
        const v = vecs[i] as number[];
        let norm = 0;
        let big = 0;
        for (const x of v) {
          norm += x * x;
          if (Math.abs(x) > Math.abs(big)) big = x;
        }
        norm = Math.sqrt(norm);
        if (!(norm > 0)) continue;
        let si = 1;
        if (hasScaling(decl.kind) && opts.scale !== false) si /= norm;
        if (hasSigns(decl.kind) && opts.sign !== false && big < 0) si = -si;
        s[i] = si;
      }
      if (s.every((x) => Math.abs(x - 1) <= tol)) continue;
      changed = true;
      const D = GroupElement.diagonal(s);
      p = actTrusted(p, spec, { [g]: D });
      total = composeAssignments({ [g]: D }, total);
    }
    if (!changed) {
      converged = true;
      break;
    }
  }
  return { params: p, assignment: total, sweeps: Math.min(sweeps + 1, maxSweeps), converged };
}

/**
 * A point on the geodesic from I to a rotation: `Q^alpha` (seeds-spec P7; S003 Sec. 6's
 * interpolation between the neuron basis and a random basis). With no `Q`, a Haar-random
 * rotation in SO(n) is drawn from `rng`.
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * import { fractionalRotation } from '@basis/symmetry';
 * const half = fractionalRotation(16, 0.5, { rng: createRng(3) }); // halfway to a random rotation
 * ```
 */
export function fractionalRotation(n: number, alpha: number, opts: { Q?: GroupElement; rng?: Rng; seed?: number } = {}): GroupElement {
  if (!Number.isInteger(n) || n < 1) throw new BasisError('INVALID_ARGUMENT', `n must be a positive integer, got ${n}`);
  const Q = opts.Q ?? GroupElement.dense(haarOrthogonal(n, opts.rng ?? createRng(opts.seed ?? 0), { det: 1 }));
  if (Q.n !== n) throw new BasisError('SHAPE_MISMATCH', `Q acts on ${Q.n} units, not ${n}`);
  return GroupElement.dense(orthogonalPower(Q.toMatrix(), alpha));
}
