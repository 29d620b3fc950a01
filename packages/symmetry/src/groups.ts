import { BasisError, haarOrthogonal, lognormalDiagonal, permutation, randomSigns, type Rng } from '@basis/tensor';
import { GroupElement } from './elements.js';

/**
 * The typed kinds of group a symmetry spec can declare on a set of n units.
 *
 * | kind | elements | where it arises |
 * |---|---|---|
 * | `permutation` | P | sigmoid, GELU, SiLU, softplus layers; LayerNorm'd streams |
 * | `block-permutation` | P ⊗ I_b (blocks of `blockSize` units move together) | attention heads |
 * | `positive-scale` | D, D > 0 | a scaling-only view of G_ReLU |
 * | `sign` | D, D ∈ {±1} | a sign-only view of odd/even activations |
 * | `positive-monomial` | P D, D > 0 (G_ReLU) | ReLU, LeakyReLU(α ≠ 1) |
 * | `signed-permutation` | P D, D ∈ {±1} | tanh (φ = A), RBF (φ = \|A\|) |
 * | `monomial` | P D, D non-singular diagonal | polynomial x^d (φ = A^∘d) |
 * | `orthogonal` | O(n) | linear layers, attention value/output maps |
 * | `invertible` | GL(n) | identity activation (linear networks) |
 */
export type GroupKind =
  | 'permutation'
  | 'block-permutation'
  | 'positive-scale'
  | 'sign'
  | 'positive-monomial'
  | 'signed-permutation'
  | 'monomial'
  | 'orthogonal'
  | 'invertible';

/** Every group kind, for validation and docs. */
export const GROUP_KINDS: readonly GroupKind[] = [
  'permutation',
  'block-permutation',
  'positive-scale',
  'sign',
  'positive-monomial',
  'signed-permutation',
  'monomial',
  'orthogonal',
  'invertible',
];

/**
 * How a group element A acting before a nonlinearity is seen after it: `σ(A x) = φ(A) σ(x)`.
 * `'identity'`: φ(A) = A (ReLU, LeakyReLU, sigmoid, tanh, identity); `'abs'`: φ(A) = |A| entrywise
 * (RBF); `{ power: d }`: φ(A) = A^∘d entrywise (x^d).
 */
export type PhiRule = 'identity' | 'abs' | { readonly power: number };

/** A named group of a symmetry spec: its kind, the number of units it acts on, and its φ. */
export interface GroupDecl {
  readonly kind: GroupKind;
  /** Number of units (for `block-permutation`: units, a multiple of `blockSize`). */
  readonly size: number;
  /** Units per block, for `block-permutation` only. */
  readonly blockSize?: number;
  /** φ of the nonlinearity that follows the units (default `'identity'`). */
  readonly phi?: PhiRule;
  /** The activation the group came from (informational, e.g. `'relu'`). */
  readonly activation?: string;
  /** Free text (e.g. "residual stream, tied across blocks"). */
  readonly note?: string;
}

/** Options of {@link sampleElement}. */
export interface SampleOptions {
  /** Log-scale spread of random positive scales, `D_ii = exp(sigma z)` (default 1, seeds-spec P6). */
  scaleSigma?: number;
}

/** True when elements of `kind` are monomial matrices (a permutation times a diagonal). */
export function isMonomialGroup(kind: GroupKind): boolean {
  return kind !== 'orthogonal' && kind !== 'invertible';
}

/** True when `kind` contains non-trivial positive rescalings (so scale canonical forms apply). */
export function hasScaling(kind: GroupKind): boolean {
  return kind === 'positive-scale' || kind === 'positive-monomial' || kind === 'monomial';
}

/** True when `kind` contains sign flips. */
export function hasSigns(kind: GroupKind): boolean {
  return kind === 'sign' || kind === 'signed-permutation' || kind === 'monomial';
}

/** True when `kind` contains non-trivial permutations. */
export function hasPermutations(kind: GroupKind): boolean {
  return kind !== 'positive-scale' && kind !== 'sign';
}

/** Applies φ to a group element. */
export function applyPhi(rule: PhiRule | undefined, A: GroupElement): GroupElement {
  if (rule === undefined || rule === 'identity') return A;
  if (rule === 'abs') return A.mapEntries(Math.abs);
  const d = rule.power;
  return A.mapEntries((x) => x ** d);
}

/** Validates a φ rule (INVALID_ARGUMENT otherwise). */
export function checkPhi(rule: unknown, where: string): PhiRule {
  if (rule === undefined || rule === 'identity') return 'identity';
  if (rule === 'abs') return 'abs';
  if (typeof rule === 'object' && rule !== null && 'power' in rule) {
    const d = (rule as { power: unknown }).power;
    if (typeof d === 'number' && Number.isInteger(d) && d >= 1) return { power: d };
  }
  throw new BasisError('CONFIG_INVALID', `${where}: phi must be 'identity', 'abs' or { power: d } with integer d >= 1, got ${JSON.stringify(rule)}`);
}

/** Human-readable name of a group kind on n units (e.g. `"P·D, D > 0 (G_ReLU)"`). */
export function groupLabel(kind: GroupKind): string {
  switch (kind) {
    case 'permutation':
      return 'Σ_n (permutations)';
    case 'block-permutation':
      return 'block permutations';
    case 'positive-scale':
      return 'D, D > 0';
    case 'sign':
      return 'D, D ∈ {±1}';
    case 'positive-monomial':
      return 'P·D, D > 0 (G_ReLU)';
    case 'signed-permutation':
      return 'P·D, D ∈ {±1}';
    case 'monomial':
      return 'P·D, D non-zero';
    case 'orthogonal':
      return 'O(n)';
    case 'invertible':
      return 'GL_n(R)';
  }
}

/** Throws CONFIG_INVALID when a declaration is malformed. */
export function checkGroupDecl(decl: GroupDecl, name: string): void {
  if (decl === null || typeof decl !== 'object') throw new BasisError('CONFIG_INVALID', `group '${name}' must be an object { kind, size }`);
  if (!(GROUP_KINDS as readonly string[]).includes(decl.kind)) {
    throw new BasisError('CONFIG_INVALID', `group '${name}' has unknown kind '${String(decl.kind)}'; use one of ${GROUP_KINDS.join(', ')}`);
  }
  if (!Number.isInteger(decl.size) || decl.size < 1) {
    throw new BasisError('CONFIG_INVALID', `group '${name}' needs a positive integer size, got ${String(decl.size)}`);
  }
  if (decl.kind === 'block-permutation') {
    const b = decl.blockSize;
    if (b === undefined || !Number.isInteger(b) || b < 1 || decl.size % b !== 0) {
      throw new BasisError(
        'CONFIG_INVALID',
        `group '${name}' is a block-permutation of ${decl.size} units and needs a blockSize dividing it, got ${String(b)}`,
      );
    }
  } else if (decl.blockSize !== undefined) {
    throw new BasisError('CONFIG_INVALID', `group '${name}': blockSize is only meaningful for kind 'block-permutation'`);
  }
  checkPhi(decl.phi, `group '${name}'`);
  if (!isMonomialGroup(decl.kind) && decl.phi !== undefined && decl.phi !== 'identity') {
    throw new BasisError('CONFIG_INVALID', `group '${name}' of kind ${decl.kind} can only have phi 'identity' (entrywise φ needs monomial elements)`);
  }
}

/**
 * Why `A` is not an element of the declared group (to tolerance `tol`), or `undefined` when it is.
 */
export function membershipDefect(decl: GroupDecl, A: GroupElement, tol = 1e-10): string | undefined {
  if (A.n !== decl.size) return `acts on ${A.n} units but the group has ${decl.size}`;
  const kind = decl.kind;
  if (kind === 'invertible') return undefined;
  if (kind === 'orthogonal') return A.kind === 'orthogonal' || A.isMonomial && A.scale!.every((s) => Math.abs(Math.abs(s) - 1) <= tol) ? undefined : 'is not orthogonal';
  if (!A.isMonomial) return `is a dense ${A.kind} matrix, not a monomial (${groupLabel(kind)})`;
  const src = A.src!;
  const scale = A.scale!;
  const identityPerm = src.every((j, i) => j === i);
  if ((kind === 'positive-scale' || kind === 'sign') && !identityPerm) return 'permutes units but the group is diagonal';
  if (kind === 'block-permutation') {
    const b = decl.blockSize as number;
    for (let i = 0; i < src.length; i++) {
      const j = src[i] as number;
      if (i % b !== j % b || (i % b !== 0 && j - (src[i - 1] as number) !== 1)) return `does not move blocks of ${b} units together`;
    }
  }
  for (let i = 0; i < scale.length; i++) {
    const s = scale[i] as number;
    const ok =
      kind === 'permutation' || kind === 'block-permutation'
        ? Math.abs(s - 1) <= tol
        : kind === 'positive-scale' || kind === 'positive-monomial'
          ? s > 0
          : kind === 'sign' || kind === 'signed-permutation'
            ? Math.abs(Math.abs(s) - 1) <= tol
            : s !== 0;
    if (!ok) return `has scale ${s} at unit ${i}, not allowed in ${groupLabel(kind)}`;
  }
  return undefined;
}

/** True when `A` belongs to the declared group (see {@link membershipDefect}). */
export function isMember(decl: GroupDecl, A: GroupElement, tol = 1e-10): boolean {
  return membershipDefect(decl, A, tol) === undefined;
}

/**
 * A random element of the declared group, drawn from `rng` (seeds-spec P6): uniform permutations
 * (of blocks for `block-permutation`), lognormal positive scales, uniform signs, Gaussian non-zero
 * scales (|z| ≥ 0.1) for `monomial`, Haar O(n) for `orthogonal`, and a Haar rotation times a
 * lognormal diagonal times a Haar rotation for `invertible` (well conditioned, singular values
 * `exp(sigma z)`).
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * import { sampleElement } from '@basis/symmetry';
 * const A = sampleElement({ kind: 'positive-monomial', size: 8 }, createRng(0)); // a G_ReLU element
 * ```
 */
export function sampleElement(decl: GroupDecl, rng: Rng, opts: SampleOptions = {}): GroupElement {
  checkGroupDecl(decl, 'sampleElement');
  const sigma = opts.scaleSigma ?? 1;
  if (!Number.isFinite(sigma) || sigma < 0) throw new BasisError('INVALID_ARGUMENT', `scaleSigma must be finite and >= 0, got ${sigma}`);
  const n = decl.size;
  const ident = (): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  switch (decl.kind) {
    case 'permutation':
      return GroupElement.permutation(permutation(n, rng));
    case 'block-permutation': {
      const b = decl.blockSize as number;
      const blocks = permutation(n / b, rng);
      const src = new Int32Array(n);
      for (let k = 0; k < blocks.length; k++) for (let r = 0; r < b; r++) src[k * b + r] = (blocks[k] as number) * b + r;
      return GroupElement.permutation(src);
    }
    case 'positive-scale':
      return GroupElement.monomial(ident(), lognormalDiagonal(n, rng, { sigma }));
    case 'sign':
      return GroupElement.monomial(ident(), randomSigns(n, rng));
    case 'positive-monomial':
      return GroupElement.monomial(permutation(n, rng), lognormalDiagonal(n, rng, { sigma }));
    case 'signed-permutation':
      return GroupElement.monomial(permutation(n, rng), randomSigns(n, rng));
    case 'monomial': {
      const p = permutation(n, rng);
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let z = 0;
        while (Math.abs(z) < 0.1) z = rng.normal();
        s[i] = z;
      }
      return GroupElement.monomial(p, s);
    }
    case 'orthogonal':
      return GroupElement.dense(haarOrthogonal(n, rng));
    case 'invertible': {
      const U = GroupElement.dense(haarOrthogonal(n, rng));
      const D = GroupElement.diagonal(lognormalDiagonal(n, rng, { sigma: Math.min(sigma, 0.5) }));
      const V = GroupElement.dense(haarOrthogonal(n, rng));
      return U.compose(D).compose(V);
    }
  }
}

/**
 * The subgroup on which φ(A) = A: what a residual stream may use when the same group acts before
 * the nonlinearity (the branch's output) and after it (the skip path) — S003 Remark 3.6. For
 * φ = identity nothing changes; RBF streams (φ = |A|) keep only permutations; x^d streams keep
 * signed permutations for odd d and permutations for even d. The result has φ = identity.
 *
 * @example
 * ```ts
 * phiFixedSubgroup({ kind: 'signed-permutation', size: 16, phi: 'abs' }); // { kind: 'permutation', size: 16, phi: 'identity' }
 * ```
 */
export function phiFixedSubgroup(decl: GroupDecl): GroupDecl {
  checkGroupDecl(decl, 'phiFixedSubgroup');
  const phi = checkPhi(decl.phi, 'phiFixedSubgroup');
  if (phi === 'identity' || (phi !== 'abs' && phi.power === 1)) return { ...decl, phi: 'identity' };
  type ScaleSet = 'one' | 'positive' | 'signs' | 'nonzero';
  const own: ScaleSet =
    decl.kind === 'permutation' || decl.kind === 'block-permutation'
      ? 'one'
      : decl.kind === 'positive-scale' || decl.kind === 'positive-monomial'
        ? 'positive'
        : decl.kind === 'sign' || decl.kind === 'signed-permutation'
          ? 'signs'
          : 'nonzero';
  // scales with φ(s) = s: |s| = s <=> s > 0; s^d = s <=> s = 1, or s = -1 for odd d
  let kept: ScaleSet;
  if (phi === 'abs') kept = own === 'one' || own === 'signs' ? 'one' : 'positive';
  else if (phi.power % 2 === 1) kept = own === 'one' || own === 'positive' ? 'one' : 'signs';
  else kept = 'one';
  const permutes = hasPermutations(decl.kind);
  let kind: GroupKind;
  if (!permutes) {
    if (kept === 'one') {
      throw new BasisError('CONFIG_INVALID', `phiFixedSubgroup: a ${decl.kind} group with this φ has only the identity left; drop it from the stream`);
    }
    kind = kept === 'positive' ? 'positive-scale' : 'sign';
  } else {
    kind = kept === 'one' ? (decl.kind === 'block-permutation' ? 'block-permutation' : 'permutation') : kept === 'positive' ? 'positive-monomial' : 'signed-permutation';
  }
  return { ...decl, kind, phi: 'identity' };
}

/**
 * Dimension of the group as a manifold and its number of connected components (seeds-spec S8):
 * `dim G_ReLU_n = n` with `n!` components; O(n) has n(n-1)/2 and 2; GL(n) has n² and 2.
 * `components` is `Infinity` when it overflows a double.
 */
export function groupDimension(decl: Pick<GroupDecl, 'kind' | 'size' | 'blockSize'>): { dimension: number; components: number } {
  const n = decl.size;
  const fact = (k: number): number => {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return f;
  };
  switch (decl.kind) {
    case 'permutation':
      return { dimension: 0, components: fact(n) };
    case 'block-permutation':
      return { dimension: 0, components: fact(n / (decl.blockSize ?? 1)) };
    case 'positive-scale':
      return { dimension: n, components: 1 };
    case 'sign':
      return { dimension: 0, components: 2 ** n };
    case 'positive-monomial':
      return { dimension: n, components: fact(n) };
    case 'signed-permutation':
      return { dimension: 0, components: 2 ** n * fact(n) };
    case 'monomial':
      return { dimension: n, components: 2 ** n * fact(n) };
    case 'orthogonal':
      return { dimension: (n * (n - 1)) / 2, components: 2 };
    case 'invertible':
      return { dimension: n * n, components: 2 };
  }
}

/**
 * Number of free parameters of a stitching-layer class on n units (seeds-spec S8): G_ReLU n,
 * rank-r maps `2nr - r²`, full linear `n²`, affine `n² + n`.
 */
export function transformClassDimension(cls: 'grelu' | 'linear' | 'affine' | { rank: number }, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new BasisError('INVALID_ARGUMENT', `n must be a positive integer, got ${n}`);
  if (cls === 'grelu') return n;
  if (cls === 'linear') return n * n;
  if (cls === 'affine') return n * n + n;
  const r = cls.rank;
  if (!Number.isInteger(r) || r < 1 || r > n) throw new BasisError('INVALID_ARGUMENT', `rank must be an integer in 1..${n}, got ${r}`);
  return 2 * n * r - r * r;
}
