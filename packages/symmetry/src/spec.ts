import { BasisError } from '@basis/tensor';
import { checkGroupDecl, isMonomialGroup, type GroupDecl, type GroupKind, type PhiRule } from './groups.js';

/**
 * How one parameter axis transforms under the element A of its group (S003 Prop. 3.4):
 * - `'out'`: by A — the axis indexes pre-activation units: rows of a dense weight, output channels
 *   of a conv kernel, biases, the affine γ/β of a normalisation that sits before the nonlinearity.
 * - `'in'`: by φ(A)⁻¹ on the right — the axis consumes post-activation units: columns of the next
 *   dense weight, input channels of the next conv kernel (`W' = W φ(A)⁻¹`).
 * - `'perm'`: by the permutation part of A only — for tensors in front of a batchnorm, whose
 *   normalisation removes any rescaling (conv weight and bias, running mean and variance); A's
 *   scale then lands on the batchnorm's γ and β (`'out'`). Only for monomial groups.
 */
export type AxisRoleKind = 'out' | 'in' | 'perm';

/** One axis of one parameter in a spec. */
export interface AxisRole {
  /** Name of the group acting on this axis. */
  readonly group: string;
  readonly role: AxisRoleKind;
  /** Each unit spans `repeat` consecutive entries of the axis (flattened `C x H x W` maps: H*W). Default 1. */
  readonly repeat?: number;
}

/**
 * A named feature (capture point) and how it transforms: by A (pre-activation), φ(A)
 * (post-activation), or only A's permutation part (`'perm'`: a conv output read by a batchnorm,
 * which removes the scale).
 */
export interface FeatureRole {
  readonly group: string;
  readonly transform: 'A' | 'phi' | 'perm';
  /** Axis holding the units (default 1: `N x d` matrices and `N x C x H x W` maps). */
  readonly axis?: number;
  readonly repeat?: number;
}

/**
 * A symmetry spec: a serialisable table mapping parameter axes to named groups (the canonical
 * form recommended by the connectivity anchors §4). Reusing a group name ties axes together —
 * that is how a residual stream shares one transform across blocks. Parameters not listed are
 * left unchanged by the action (e.g. the last layer's bias).
 *
 * @example
 * ```json
 * {
 *   "format": "basis.symmetry-spec", "version": 1,
 *   "groups": { "h0": { "kind": "positive-monomial", "size": 16, "activation": "relu" } },
 *   "axes": {
 *     "layers.0.weight": [{ "group": "h0", "role": "out" }, null],
 *     "layers.0.bias":   [{ "group": "h0", "role": "out" }],
 *     "layers.1.weight": [null, { "group": "h0", "role": "in" }]
 *   },
 *   "features": { "layers.0.post": { "group": "h0", "transform": "phi" } }
 * }
 * ```
 */
export interface SymmetrySpec {
  readonly format: 'basis.symmetry-spec';
  readonly version: 1;
  readonly groups: Readonly<Record<string, GroupDecl>>;
  readonly axes: Readonly<Record<string, ReadonlyArray<AxisRole | null>>>;
  readonly features?: Readonly<Record<string, FeatureRole>>;
}

const ROLES: readonly AxisRoleKind[] = ['out', 'in', 'perm'];

function checkRepeat(r: unknown, where: string): void {
  if (r !== undefined && (!Number.isInteger(r) || (r as number) < 1)) {
    throw new BasisError('CONFIG_INVALID', `${where}: repeat must be a positive integer, got ${JSON.stringify(r)}`);
  }
}

/**
 * Validates a spec's structure (CONFIG_INVALID with the offending entry named) and returns it.
 * Shapes are checked against parameters when the spec acts ({@link act}).
 */
export function validateSpec(spec: unknown): SymmetrySpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new BasisError('CONFIG_INVALID', 'a symmetry spec must be an object');
  const s = spec as Partial<SymmetrySpec>;
  if (s.format !== 'basis.symmetry-spec') {
    throw new BasisError('CONFIG_INVALID', `spec.format must be 'basis.symmetry-spec', got ${JSON.stringify(s.format)}`);
  }
  if (s.version !== 1) throw new BasisError('CONFIG_INVALID', `spec.version must be 1, got ${JSON.stringify(s.version)}`);
  if (s.groups === null || typeof s.groups !== 'object' || Array.isArray(s.groups)) throw new BasisError('CONFIG_INVALID', 'spec.groups must map group names to { kind, size }');
  for (const [name, g] of Object.entries(s.groups)) checkGroupDecl(g, name);
  if (s.axes === null || typeof s.axes !== 'object' || Array.isArray(s.axes)) throw new BasisError('CONFIG_INVALID', 'spec.axes must map parameter names to per-axis roles');
  const used = new Set<string>();
  for (const [param, roles] of Object.entries(s.axes)) {
    if (!Array.isArray(roles)) throw new BasisError('CONFIG_INVALID', `spec.axes['${param}'] must be an array with one entry (role or null) per axis`);
    (roles as unknown[]).forEach((entry, axis) => {
      if (entry === null) return;
      const where = `spec.axes['${param}'][${axis}]`;
      if (typeof entry !== 'object') throw new BasisError('CONFIG_INVALID', `${where} must be null or { group, role }`);
      const r = entry as { group: string; role: AxisRoleKind; repeat?: unknown };
      const g = s.groups![r.group];
      if (g === undefined) throw new BasisError('CONFIG_INVALID', `${where} names group '${r.group}', which spec.groups does not declare`);
      if (!ROLES.includes(r.role)) throw new BasisError('CONFIG_INVALID', `${where}: role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(r.role)}`);
      if (r.role === 'perm' && !isMonomialGroup(g.kind)) {
        throw new BasisError('CONFIG_INVALID', `${where}: role 'perm' needs a monomial group, but '${r.group}' is ${g.kind}`);
      }
      checkRepeat(r.repeat, where);
      used.add(r.group);
    });
  }
  for (const [name, f] of Object.entries(s.features ?? {})) {
    const where = `spec.features['${name}']`;
    if (f === null || typeof f !== 'object') throw new BasisError('CONFIG_INVALID', `${where} must be { group, transform }`);
    if (s.groups[f.group] === undefined) throw new BasisError('CONFIG_INVALID', `${where} names group '${f.group}', which spec.groups does not declare`);
    if (f.transform !== 'A' && f.transform !== 'phi' && f.transform !== 'perm') {
      throw new BasisError('CONFIG_INVALID', `${where}: transform must be 'A', 'phi' or 'perm', got ${JSON.stringify(f.transform)}`);
    }
    if (f.transform === 'perm' && !isMonomialGroup(s.groups[f.group]!.kind)) {
      throw new BasisError('CONFIG_INVALID', `${where}: transform 'perm' needs a monomial group, but '${f.group}' is ${s.groups[f.group]!.kind}`);
    }
    if (f.axis !== undefined && (!Number.isInteger(f.axis) || f.axis < 0)) throw new BasisError('CONFIG_INVALID', `${where}: axis must be a non-negative integer`);
    checkRepeat(f.repeat, where);
  }
  for (const name of Object.keys(s.groups)) {
    if (!used.has(name)) throw new BasisError('CONFIG_INVALID', `group '${name}' acts on no parameter axis; remove it or list the axes it acts on`);
  }
  return s as SymmetrySpec;
}

/** Parses a spec from JSON text (CONFIG_INVALID on bad JSON or structure). */
export function parseSpec(json: string): SymmetrySpec {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `symmetry spec is not valid JSON: ${(e as Error).message}`);
  }
  return validateSpec(v);
}

/** The spec as pretty-printed JSON (round-trips through {@link parseSpec}). */
export function specToJSON(spec: SymmetrySpec): string {
  return JSON.stringify(validateSpec(spec), null, 2);
}

/** Every (parameter, axis, role) a group acts on. */
export function groupUsage(spec: SymmetrySpec, group: string): Array<{ param: string; axis: number; role: AxisRole }> {
  const out: Array<{ param: string; axis: number; role: AxisRole }> = [];
  for (const [param, roles] of Object.entries(spec.axes)) {
    roles.forEach((r, axis) => {
      if (r !== null && r.group === group) out.push({ param, axis, role: r });
    });
  }
  return out;
}

/**
 * Builds a {@link SymmetrySpec} step by step.
 *
 * @example
 * ```ts
 * import { SpecBuilder } from '@basis/symmetry';
 * const spec = new SpecBuilder()
 *   .group('h0', { kind: 'positive-monomial', size: 16, activation: 'relu' })
 *   .out('fc1.weight', 2, 0, 'h0').out('fc1.bias', 1, 0, 'h0')
 *   .in('fc2.weight', 2, 1, 'h0')
 *   .feature('fc1.post', 'h0', 'phi')
 *   .build();
 * ```
 */
export class SpecBuilder {
  private readonly groups: Record<string, GroupDecl> = {};
  private readonly axes: Record<string, Array<AxisRole | null>> = {};
  private readonly features: Record<string, FeatureRole> = {};

  /** Declares a group (CONFIG_INVALID if the name is taken). */
  group(name: string, decl: GroupDecl): this {
    if (this.groups[name] !== undefined) throw new BasisError('CONFIG_INVALID', `group '${name}' is declared twice`);
    checkGroupDecl(decl, name);
    this.groups[name] = decl;
    return this;
  }

  /** Sets the role of `axis` of parameter `param`, which has `ndim` axes. */
  axis(param: string, ndim: number, axis: number, group: string, role: AxisRoleKind, repeat?: number): this {
    if (!Number.isInteger(ndim) || ndim < 1 || !Number.isInteger(axis) || axis < 0 || axis >= ndim) {
      throw new BasisError('CONFIG_INVALID', `parameter '${param}': axis ${axis} is not an axis of a ${ndim}-d tensor`);
    }
    const roles = (this.axes[param] ??= new Array<AxisRole | null>(ndim).fill(null));
    if (roles.length !== ndim) throw new BasisError('CONFIG_INVALID', `parameter '${param}' was declared with ${roles.length} axes, now with ${ndim}`);
    if (roles[axis] !== null) throw new BasisError('CONFIG_INVALID', `parameter '${param}' axis ${axis} already belongs to group '${roles[axis]!.group}'`);
    roles[axis] = repeat === undefined || repeat === 1 ? { group, role } : { group, role, repeat };
    return this;
  }

  /** Shorthand for `axis(param, ndim, axis, group, 'out')`. */
  out(param: string, ndim: number, axis: number, group: string, repeat?: number): this {
    return this.axis(param, ndim, axis, group, 'out', repeat);
  }

  /** Shorthand for `axis(param, ndim, axis, group, 'in')`. */
  in(param: string, ndim: number, axis: number, group: string, repeat?: number): this {
    return this.axis(param, ndim, axis, group, 'in', repeat);
  }

  /** Shorthand for `axis(param, ndim, axis, group, 'perm')`. */
  perm(param: string, ndim: number, axis: number, group: string, repeat?: number): this {
    return this.axis(param, ndim, axis, group, 'perm', repeat);
  }

  /** Declares a feature (capture point) transforming by A, φ(A) or A's permutation part. */
  feature(name: string, group: string, transform: 'A' | 'phi' | 'perm', opts: { axis?: number; repeat?: number } = {}): this {
    this.features[name] = { group, transform, ...opts };
    return this;
  }

  /** The validated spec. */
  build(): SymmetrySpec {
    const spec: SymmetrySpec = {
      format: 'basis.symmetry-spec',
      version: 1,
      groups: { ...this.groups },
      axes: Object.fromEntries(Object.entries(this.axes).map(([k, v]) => [k, [...v]])),
      ...(Object.keys(this.features).length > 0 ? { features: { ...this.features } } : {}),
    };
    return validateSpec(spec);
  }
}

/** One dense layer of {@link denseChainSpec}: parameter names and the activation after it. */
export interface DenseLayerNames {
  /** Weight name, shape `[out, in]` (PyTorch `nn.Linear`). */
  weight: string;
  /** Bias name, shape `[out]` (omit for bias-free layers). */
  bias?: string;
}

/**
 * The spec of a plain MLP `l_k ∘ … ∘ l_1`, `l_i(x) = σ(W_i x + b_i)` for i < k (S003 Prop. 3.4):
 * one group per hidden layer with the activation's intertwiner group, acting on the rows of
 * `W_i`, `b_i` and the columns of `W_{i+1}`; features `hidden.i.pre` (by A) and `hidden.i.post`
 * (by φ(A)) are declared for capture points of those names.
 *
 * @example
 * ```ts
 * const spec = denseChainSpec(
 *   [{ weight: 'l1.weight', bias: 'l1.bias' }, { weight: 'l2.weight', bias: 'l2.bias' }],
 *   [32], { kind: 'positive-monomial', phi: 'identity', activation: 'relu' },
 * );
 * ```
 */
export function denseChainSpec(
  layers: readonly DenseLayerNames[],
  hiddenWidths: readonly number[],
  group: { kind: GroupKind; phi?: PhiRule; activation?: string },
  opts: { groupPrefix?: string; featurePrefix?: string } = {},
): SymmetrySpec {
  if (layers.length < 2) throw new BasisError('TOO_SMALL', `denseChainSpec needs at least 2 layers (one hidden layer), got ${layers.length}`);
  if (hiddenWidths.length !== layers.length - 1) {
    throw new BasisError('SHAPE_MISMATCH', `denseChainSpec: ${layers.length} layers have ${layers.length - 1} hidden widths, got ${hiddenWidths.length}`);
  }
  const gp = opts.groupPrefix ?? 'hidden.';
  const fp = opts.featurePrefix ?? 'hidden.';
  const b = new SpecBuilder();
  hiddenWidths.forEach((w, i) => {
    const name = `${gp}${i}`;
    const layer = layers[i] as DenseLayerNames;
    const next = layers[i + 1] as DenseLayerNames;
    b.group(name, { kind: group.kind, size: w, ...(group.phi === undefined ? {} : { phi: group.phi }), ...(group.activation === undefined ? {} : { activation: group.activation }) });
    b.out(layer.weight, 2, 0, name);
    if (layer.bias !== undefined) b.out(layer.bias, 1, 0, name);
    b.in(next.weight, 2, 1, name);
    b.feature(`${fp}${i}.pre`, name, 'A');
    b.feature(`${fp}${i}.post`, name, 'phi');
  });
  return b.build();
}
