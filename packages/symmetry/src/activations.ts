import { BasisError, Matrix, solve, type Rng } from '@basis/tensor';
import type { GroupElement } from './elements.js';
import { applyPhi, groupLabel, isMember, sampleElement, type GroupDecl, type GroupKind, type PhiRule, type SampleOptions } from './groups.js';

/** Parameters of parameterised activations. */
export interface ActivationParams {
  /** Negative slope of `leaky_relu` (default 0.01; must be >= 0). */
  slope?: number;
  /** Degree of `polynomial` (default 2; integer >= 1). */
  degree?: number;
}

/**
 * One activation with its intertwiner group (S003 Table 1 and seeds-spec S3–S4): the function,
 * the group `G_σ` (or `null` when only the numeric probe can say), `φ_σ`, a membership predicate
 * and a sampler.
 */
export interface Activation {
  /** Registry id, e.g. `'relu'`, `'leaky_relu'`. */
  readonly id: string;
  /** Formula in words. */
  readonly formula: string;
  /** Parameters it was built with. */
  readonly params: Readonly<ActivationParams>;
  /** σ applied to one number. */
  readonly fn: (x: number) => number;
  /** The intertwiner group's kind, or null when no closed form is known (GELU, SiLU, softplus). */
  readonly group: GroupKind | null;
  /** φ_σ of the group, or null when unknown. */
  readonly phi: PhiRule | null;
  /** Where the row comes from: `'S003 Table 1'`, `'extension (odd function)'` or `'numeric probe'`. */
  readonly source: string;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc, Chebyshev fit), enough for GELU's probe. */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

type Builder = (p: ActivationParams) => Activation;

const BUILDERS: Record<string, Builder> = {
  identity: () => ({ id: 'identity', formula: 'x', params: {}, fn: (x) => x, group: 'invertible', phi: 'identity', source: 'S003 Table 1' }),
  sigmoid: () => ({
    id: 'sigmoid',
    formula: 'e^x / (1 + e^x)',
    params: {},
    fn: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    group: 'permutation',
    phi: 'identity',
    source: 'S003 Table 1',
  }),
  tanh: () => ({ id: 'tanh', formula: 'tanh(x)', params: {}, fn: Math.tanh, group: 'signed-permutation', phi: 'identity', source: 'extension (odd function, seeds-spec S3)' }),
  relu: () => ({ id: 'relu', formula: 'max(x, 0)', params: {}, fn: (x) => (x > 0 ? x : 0), group: 'positive-monomial', phi: 'identity', source: 'S003 Table 1' }),
  leaky_relu: (p) => {
    const a = p.slope ?? 0.01;
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0) {
      throw new BasisError('INVALID_ARGUMENT', `leaky_relu slope must be a finite number >= 0, got ${String(a)}`);
    }
    return {
      id: 'leaky_relu',
      formula: `x if x > 0 else ${a}·x`,
      params: { slope: a },
      fn: (x) => (x > 0 ? x : a * x),
      // slope 1 is the identity: the group is all of GL_n (S003 App. D.3)
      group: a === 1 ? 'invertible' : 'positive-monomial',
      phi: 'identity',
      source: 'S003 Table 1',
    };
  },
  rbf: () => ({
    id: 'rbf',
    formula: '(1/√(2π)) e^(-x²/2)',
    params: {},
    fn: (x) => Math.exp(-0.5 * x * x) / SQRT_2PI,
    group: 'signed-permutation',
    phi: 'abs',
    source: 'S003 Table 1',
  }),
  polynomial: (p) => {
    const d = p.degree ?? 2;
    if (!Number.isInteger(d) || d < 1) throw new BasisError('INVALID_ARGUMENT', `polynomial degree must be an integer >= 1, got ${String(d)}`);
    return {
      id: 'polynomial',
      formula: `x^${d}`,
      params: { degree: d },
      fn: (x) => x ** d,
      group: d === 1 ? 'invertible' : 'monomial',
      phi: d === 1 ? 'identity' : { power: d },
      source: 'S003 Table 1',
    };
  },
  gelu: () => ({ id: 'gelu', formula: 'x Φ(x)', params: {}, fn: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), group: null, phi: null, source: 'numeric probe' }),
  silu: () => ({ id: 'silu', formula: 'x / (1 + e^-x)', params: {}, fn: (x) => x / (1 + Math.exp(-x)), group: null, phi: null, source: 'numeric probe' }),
  softplus: () => ({
    id: 'softplus',
    formula: 'log(1 + e^x)',
    params: {},
    fn: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
    group: null,
    phi: null,
    source: 'numeric probe',
  }),
};

/** Registry ids, in table order. */
export const ACTIVATION_IDS: readonly string[] = Object.keys(BUILDERS);

/**
 * The activation registered as `id`, with parameters (`leaky_relu` slope, `polynomial` degree).
 * Throws INVALID_ARGUMENT for unknown ids or bad parameters.
 *
 * @example
 * ```ts
 * import { getActivation } from '@basis/symmetry';
 * const leaky = getActivation('leaky_relu', { slope: 0.1 });
 * leaky.group; // 'positive-monomial' (G_ReLU); slope 1 would give 'invertible'
 * ```
 */
export function getActivation(id: string, params: ActivationParams = {}): Activation {
  const b = BUILDERS[id];
  if (b === undefined) {
    throw new BasisError('INVALID_ARGUMENT', `unknown activation '${id}'; known: ${ACTIVATION_IDS.join(', ')}`);
  }
  return b(params);
}

/** Every registered activation with default parameters (and x³ beside x²). */
export function listActivations(): Activation[] {
  const out = ACTIVATION_IDS.map((id) => getActivation(id));
  out.splice(ACTIVATION_IDS.indexOf('polynomial') + 1, 0, getActivation('polynomial', { degree: 3 }));
  return out;
}

/** The group declaration of an activation's intertwiner group on n units (INVALID_ARGUMENT if unknown). */
export function activationGroup(act: Activation, n: number): GroupDecl {
  if (act.group === null || act.phi === null) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `activation '${act.id}' has no closed-form intertwiner group; run probeActivation on it (it is at least the permutations)`,
    );
  }
  return { kind: act.group, size: n, phi: act.phi, activation: act.id };
}

/** φ_σ(A) from the activation's closed form. */
export function phiOf(act: Activation, A: GroupElement): GroupElement {
  if (act.phi === null) throw new BasisError('INVALID_ARGUMENT', `activation '${act.id}' has no closed-form φ`);
  return applyPhi(act.phi, A);
}

/**
 * φ_σ(A) = σ(A) σ(I_n)^{-1} with σ applied entrywise (S003 Lemma 3.1), for any σ with σ(I_n)
 * invertible. Gives the same result as the closed forms on group elements (a test checks it).
 */
export function phiByLemma(fn: (x: number) => number, A: GroupElement): Matrix {
  const n = A.n;
  const sA = A.toMatrix().data.map(fn);
  const sI = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sI.data[i * n + j] = fn(i === j ? 1 : 0);
  // X = σ(A) σ(I)^{-1}  <=>  σ(I)ᵀ Xᵀ = σ(A)ᵀ
  const Xt = solve(sI.transpose(), new Matrix(n, n, sA).transpose());
  return Xt.transpose();
}

/** Membership predicate of an activation's intertwiner group. */
export function inIntertwinerGroup(act: Activation, A: GroupElement, tol = 1e-10): boolean {
  return isMember(activationGroup(act, A.n), A, tol);
}

/** A random element of an activation's intertwiner group on n units. */
export function sampleIntertwiner(act: Activation, n: number, rng: Rng, opts: SampleOptions = {}): GroupElement {
  return sampleElement(activationGroup(act, n), rng, opts);
}

/** Human-readable group of an activation (`'unknown'` when null). */
export function activationGroupLabel(act: Activation): string {
  return act.group === null ? 'unknown (probe)' : groupLabel(act.group);
}
