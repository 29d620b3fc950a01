// Optimizers on tfjs-core ops with serialisable state (no tf.train.*): SGD (momentum, Nesterov),
// Adam and AdamW, L2 or decoupled weight decay, gradient clipping by global norm, freezing.
import { addN, sqrt, square, sum, tidy, variable, type Tensor, type Variable } from '@tensorflow/tfjs-core';
import { BasisError, adamStep, sgdStep, type NdArray } from '@basis/tensor';
import { ndArrayToTensor, tensorToNdArray, type NamedVariables } from './params.js';
import * as v from 'valibot';
import { at, boolean, finite, object, optional, parseConfig, type Schema } from '@basis/tensor';
import { checkNum, invalid, isList, show } from './validate.js';

/**
 * Stochastic gradient descent, as in PyTorch's `torch.optim.SGD`:
 * `g += weightDecay·p; buf = momentum·buf + (1 − dampening)·g` (the first step sets `buf = g`);
 * `g = nesterov ? g + momentum·buf : buf; p −= lr·g`.
 *
 * @example
 * ```ts
 * const cfg: SgdConfig = { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 };
 * ```
 */
export interface SgdConfig {
  kind: 'sgd';
  /** Learning rate (> 0); a schedule overrides it per step. */
  lr: number;
  /** Momentum in [0, 1) (default 0). */
  momentum?: number;
  /** Dampening of the momentum buffer in [0, 1] (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  clipNorm?: number | null;
}

/**
 * Adam (`kind: 'adam'`, weight decay as an L2 term in the gradient, as `torch.optim.Adam`) or
 * AdamW (`kind: 'adamw'`, decoupled decay `p *= 1 − lr·weightDecay`, as `torch.optim.AdamW`).
 * Update: `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)` with a per-parameter step count t.
 *
 * @example
 * ```ts
 * const cfg: AdamConfig = { kind: 'adamw', lr: 1e-3, weightDecay: 0.01, clipNorm: 1 };
 * ```
 */
export interface AdamConfig {
  kind: 'adam' | 'adamw';
  /** Learning rate (> 0); a schedule overrides it per step. */
  lr: number;
  /** First-moment decay in [0, 1) (default 0.9). */
  beta1?: number;
  /** Second-moment decay in [0, 1) (default 0.999). */
  beta2?: number;
  /** Denominator term (> 0, default 1e-8). */
  epsilon?: number;
  /** L2 (adam) or decoupled (adamw) weight decay (default 0 for adam, 0.01 for adamw). */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  clipNorm?: number | null;
}

/**
 * An optimizer configuration (plain JSON, recorded in checkpoint manifests).
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9 });
 * ```
 */
export type OptimizerConfig = SgdConfig | AdamConfig;

/**
 * A configuration with every default filled in.
 *
 * @example
 * ```ts
 * resolveOptimizerConfig({ kind: 'adam', lr: 1e-3 }).beta2; // 0.999
 * ```
 */
export type ResolvedOptimizerConfig =
  | { kind: 'sgd'; lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number; clipNorm: number | null }
  | { kind: 'adam' | 'adamw'; lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; clipNorm: number | null };

/**
 * The serialisable state of an optimizer: the number of updates applied and one named array per
 * slot, `<parameter>.<slot>` with slots `momentum_buffer` (SGD) or `exp_avg`, `exp_avg_sq` and
 * `step` (Adam; `step` is an int32 scalar, the parameter's own update count).
 *
 * @example
 * ```ts
 * const state = await opt.getState();
 * state.slots.get('layers.0.weight.exp_avg')?.shape; // [16, 4]
 * ```
 */
export interface OptimizerState {
  kind: 'sgd' | 'adam' | 'adamw';
  /** Number of {@link Optimizer.applyGradients} calls so far. */
  step: number;
  slots: Map<string, NdArray>;
}

/**
 * Which parameters to exclude from updates: a list of names or a predicate on the name.
 *
 * @example
 * ```ts
 * const freeze: FreezeSpec = (name) => name.startsWith('layers.0.');
 * ```
 */
export type FreezeSpec = readonly string[] | ((name: string) => boolean);

/**
 * Options of {@link Optimizer.applyGradients}.
 *
 * @example
 * ```ts
 * opt.applyGradients(params, grads, { lr: schedule(step), freeze: ['layers.0.weight'] });
 * ```
 */
export interface ApplyOptions {
  /** Learning rate for this update (>= 0); default the configured `lr`. */
  lr?: number;
  /** Parameters left untouched even if they have a gradient. */
  freeze?: FreezeSpec;
}

/**
 * What one update did.
 *
 * @example
 * ```ts
 * const { gradNorm, clipped } = opt.applyGradients(params, grads);
 * ```
 */
export interface ApplyInfo {
  /** Learning rate used. */
  lr: number;
  /** Global gradient L2 norm before clipping (computed only when `clipNorm` is set). */
  gradNorm: number | undefined;
  /** Whether the gradients were scaled down by clipping. */
  clipped: boolean;
}

/**
 * An optimizer over named parameters. State lives in tfjs variables owned by the optimizer
 * (dispose it when done); {@link Optimizer.getState}/{@link Optimizer.setState} round-trip it exactly.
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'adam', lr: 1e-3 });
 * tidy(() => {
 *   const { grads } = variableGrads(() => loss(params), Object.values(params));
 *   opt.applyGradients(params, gradsByName(params, grads));
 * });
 * opt.dispose();
 * ```
 */
export interface Optimizer {
  readonly config: Readonly<ResolvedOptimizerConfig>;
  /** Number of updates applied so far. */
  readonly step: number;
  /**
   * Applies one update. `grads` are keyed by parameter name; parameters without a gradient (or
   * frozen) are skipped, like PyTorch parameters whose `.grad` is None.
   */
  applyGradients(params: NamedVariables, grads: Record<string, Tensor>, opts?: ApplyOptions): ApplyInfo;
  /** A copy of the state (async reads). */
  getState(): Promise<OptimizerState>;
  /** Replaces the state with a saved one; with `params`, slot shapes are checked against them. */
  setState(state: OptimizerState, params?: NamedVariables): void;
  /** Disposes the state variables. */
  dispose(): void;
}

const clipNorm = optional(v.nullable(finite({ gt: 0 })));

/**
 * The schema of an {@link OptimizerConfig} (valibot; see `parseConfig`): SGD or Adam/AdamW with
 * their own options; Nesterov momentum needs momentum > 0 and dampening 0.
 *
 * @example
 * ```ts
 * parseConfig(OptimizerConfigSchema, { kind: 'adamw', lr: 1e-3 }, 'optimizer');
 * ```
 */
export const OptimizerConfigSchema: Schema<OptimizerConfig> = v.variant(
  'kind',
  [
    v.pipe(
      object({
        kind: v.literal('sgd'),
        lr: finite({ gt: 0 }),
        momentum: optional(finite({ ge: 0, lt: 1 })),
        dampening: optional(finite({ ge: 0, le: 1 })),
        nesterov: optional(boolean()),
        weightDecay: optional(finite({ ge: 0 })),
        clipNorm,
      }),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const o = dataset.value;
        const momentum = o.momentum ?? 0;
        const dampening = o.dampening ?? 0;
        if (o.nesterov === true && (momentum === 0 || dampening !== 0)) addIssue({ message: `needs momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}`, path: [at(o, 'nesterov')] });
      }),
    ),
    object({
      kind: v.picklist(['adam', 'adamw']),
      lr: finite({ gt: 0 }),
      beta1: optional(finite({ ge: 0, lt: 1 })),
      beta2: optional(finite({ ge: 0, lt: 1 })),
      epsilon: optional(finite({ gt: 0 })),
      weightDecay: optional(finite({ ge: 0 })),
      clipNorm,
    }),
  ],
  (i) => (i.expected === 'Object' ? `must be an object, got ${show(i.input)}` : `must be 'sgd', 'adam' or 'adamw', got ${show(i.input)}`),
) as unknown as Schema<OptimizerConfig>;

/**
 * Validates an optimizer configuration (parsed by {@link OptimizerConfigSchema}) and fills in its
 * defaults; CONFIG_INVALID names the bad field, e.g. `optimizer.lr must be > 0, got -1`.
 *
 * @example
 * ```ts
 * resolveOptimizerConfig({ kind: 'sgd', lr: 0.1 }); // { kind: 'sgd', lr: 0.1, momentum: 0, ... }
 * ```
 */
export function resolveOptimizerConfig(config: unknown, field = 'optimizer'): ResolvedOptimizerConfig {
  const c = parseConfig(OptimizerConfigSchema, config, field);
  const clip = c.clipNorm ?? null;
  if (c.kind === 'sgd') {
    return { kind: 'sgd', lr: c.lr, momentum: c.momentum ?? 0, dampening: c.dampening ?? 0, nesterov: c.nesterov ?? false, weightDecay: c.weightDecay ?? 0, clipNorm: clip };
  }
  return { kind: c.kind, lr: c.lr, beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999, epsilon: c.epsilon ?? 1e-8, weightDecay: c.weightDecay ?? (c.kind === 'adamw' ? 0.01 : 0), clipNorm: clip };
}

/**
 * The set of frozen names among `names` (validated: listed names must exist).
 *
 * @example
 * ```ts
 * frozenNames(['a.weight', 'b.weight'], ['a.weight']); // Set { 'a.weight' }
 * ```
 */
export function frozenNames(names: readonly string[], freeze: FreezeSpec | undefined, field = 'freeze'): Set<string> {
  if (freeze === undefined) return new Set();
  if (typeof freeze === 'function') {
    const out = new Set<string>();
    for (const n of names) {
      const r: unknown = freeze(n);
      if (typeof r !== 'boolean') invalid(field, `predicate must return true or false, returned ${show(r)} for '${n}'`);
      if (r) out.add(n);
    }
    return out;
  }
  if (!isList(freeze)) invalid(field, `must be a list of parameter names or a predicate, got ${show(freeze)}`);
  const known = new Set(names);
  freeze.forEach((n, i) => {
    if (typeof n !== 'string') invalid(`${field}[${i}]`, `must be a parameter name, got ${show(n)}`);
    if (!known.has(n)) invalid(`${field}[${i}]`, `names no parameter: '${n}' (parameters: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`);
  });
  return new Set(freeze);
}

const SLOTS: Record<ResolvedOptimizerConfig['kind'], readonly string[]> = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq', 'step'],
  adamw: ['exp_avg', 'exp_avg_sq', 'step'],
};

/** Splits `<param>.<slot>` on the last dot. */
function splitSlot(key: string, kind: ResolvedOptimizerConfig['kind']): [string, string] {
  const i = key.lastIndexOf('.');
  const slot = i < 0 ? '' : key.slice(i + 1);
  if (i <= 0 || !SLOTS[kind].includes(slot)) {
    throw new BasisError('BAD_FILE', `optimizer state entry '${key}' is not '<parameter>.<slot>' with a ${kind} slot (${SLOTS[kind].join(', ')})`);
  }
  return [key.slice(0, i), slot];
}

class TfOptimizer implements Optimizer {
  readonly config: Readonly<ResolvedOptimizerConfig>;
  private slotVars = new Map<string, Variable>();
  private paramSteps = new Map<string, number>();
  private updates = 0;
  private disposed = false;

  constructor(config: ResolvedOptimizerConfig) {
    this.config = Object.freeze({ ...config });
  }

  get step(): number {
    return this.updates;
  }

  applyGradients(params: NamedVariables, grads: Record<string, Tensor>, opts: ApplyOptions = {}): ApplyInfo {
    if (this.disposed) throw new BasisError('INVALID_ARGUMENT', 'this optimizer was disposed; create a new one');
    const lr = opts.lr === undefined ? this.config.lr : checkNum(opts.lr, 'applyGradients: lr', { ge: 0 });
    const frozen = frozenNames(Object.keys(params), opts.freeze, 'applyGradients: freeze');
    const names: string[] = [];
    for (const name of Object.keys(grads).sort()) {
      const p = params[name];
      const g = grads[name];
      if (p === undefined) throw new BasisError('INVALID_ARGUMENT', `applyGradients: gradient '${name}' has no parameter of that name`);
      if (g === undefined || g === null || frozen.has(name)) continue;
      if (g.shape.length !== p.shape.length || g.shape.some((d, i) => d !== p.shape[i])) {
        throw new BasisError('SHAPE_MISMATCH', `applyGradients: gradient of '${name}' has shape [${g.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`);
      }
      names.push(name);
    }
    let gradNorm: number | undefined;
    let scale = 1;
    const clipNorm = this.config.clipNorm;
    if (clipNorm !== null && names.length > 0) {
      gradNorm = tidy(() => sqrt(addN(names.map((n) => sum(square(grads[n]!))))).dataSync()[0]!);
      if (!Number.isFinite(gradNorm)) {
        throw new BasisError('NON_FINITE_INPUT', `the global gradient norm is ${gradNorm}; the loss diverged — lower optimizer.lr (now ${lr})`, { details: { gradNorm } });
      }
      if (gradNorm > clipNorm) scale = clipNorm / (gradNorm + 1e-6);
    }
    this.updates += 1;
    tidy(() => {
      for (const name of names) {
        const p = params[name]!;
        const g: Tensor = grads[name]!;
        if (this.config.kind === 'sgd') this.sgdUpdate(name, p, g, lr, scale);
        else this.adamUpdate(name, p, g, lr, scale);
      }
    });
    return { lr, gradNorm, clipped: scale !== 1 };
  }

  private setSlot(key: string, value: Tensor): void {
    const v = this.slotVars.get(key);
    if (v === undefined) this.slotVars.set(key, variable(value, false));
    else v.assign(value);
  }

  // One fused kernel per parameter where the backend has it (@basis/tensor's sgdStep/adamStep),
  // composed tfjs-core ops elsewhere.
  private sgdUpdate(name: string, p: Variable, g: Tensor, lr: number, gradScale: number): void {
    const c = this.config as Extract<ResolvedOptimizerConfig, { kind: 'sgd' }>;
    const key = `${name}.momentum_buffer`;
    const r = sgdStep(p, g, c.momentum === 0 ? null : (this.slotVars.get(key) ?? null), {
      lr,
      momentum: c.momentum,
      dampening: c.dampening,
      nesterov: c.nesterov,
      weightDecay: c.weightDecay,
      gradScale,
    });
    if (r.buf !== null) this.setSlot(key, r.buf);
    p.assign(r.param);
  }

  private adamUpdate(name: string, p: Variable, g: Tensor, lr: number, gradScale: number): void {
    const c = this.config as Extract<ResolvedOptimizerConfig, { kind: 'adam' | 'adamw' }>;
    const mKey = `${name}.exp_avg`;
    const vKey = `${name}.exp_avg_sq`;
    const t = (this.paramSteps.get(name) ?? 0) + 1;
    const r = adamStep(p, g, this.slotVars.get(mKey) ?? null, this.slotVars.get(vKey) ?? null, {
      lr,
      beta1: c.beta1,
      beta2: c.beta2,
      epsilon: c.epsilon,
      weightDecay: c.weightDecay,
      decoupled: c.kind === 'adamw',
      step: t,
      gradScale,
    });
    this.setSlot(mKey, r.m);
    this.setSlot(vKey, r.v);
    this.paramSteps.set(name, t);
    p.assign(r.param);
  }

  async getState(): Promise<OptimizerState> {
    const entries: [string, NdArray][] = [];
    for (const [key, v] of this.slotVars) entries.push([key, await tensorToNdArray(v, `optimizer slot '${key}'`)]);
    for (const [name, t] of this.paramSteps) entries.push([`${name}.step`, { dtype: 'int32', shape: [], data: Int32Array.of(t) }]);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { kind: this.config.kind, step: this.updates, slots: new Map(entries) };
  }

  setState(state: OptimizerState, params?: NamedVariables): void {
    if (this.disposed) throw new BasisError('INVALID_ARGUMENT', 'this optimizer was disposed; create a new one');
    if (typeof state !== 'object' || state === null || !(state.slots instanceof Map)) {
      throw new BasisError('INVALID_ARGUMENT', 'setState expects { kind, step, slots: Map<string, NdArray> } as returned by getState');
    }
    if (state.kind !== this.config.kind) {
      throw new BasisError('CONFIG_INVALID', `optimizer.kind is '${this.config.kind}' but the saved state is of a '${String(state.kind)}' optimizer; use the same kind to resume`);
    }
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new BasisError('BAD_FILE', `optimizer state step must be an integer >= 0, got ${show(state.step)}`);
    const steps = new Map<string, number>();
    const tensors: [string, NdArray][] = [];
    for (const [key, a] of state.slots) {
      const [param, slot] = splitSlot(key, this.config.kind);
      const p = params?.[param];
      if (params !== undefined && p === undefined) throw new BasisError('SHAPE_MISMATCH', `optimizer state has slot '${key}' for a parameter the model lacks`);
      if (slot === 'step') {
        const t = a.shape.length === 0 && a.dtype === 'int32' ? (a.data as Int32Array)[0]! : NaN;
        if (!Number.isSafeInteger(t) || t < 0) throw new BasisError('BAD_FILE', `optimizer slot '${key}' must be an int32 scalar >= 0`);
        steps.set(param, t);
        continue;
      }
      if (a.dtype !== 'float32') throw new BasisError('BAD_FILE', `optimizer slot '${key}' must be float32, got ${a.dtype}`);
      if (p !== undefined && (a.shape.length !== p.shape.length || a.shape.some((d, i) => d !== p.shape[i]))) {
        throw new BasisError('SHAPE_MISMATCH', `optimizer slot '${key}' has shape [${a.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`);
      }
      tensors.push([key, a]);
    }
    this.disposeSlots();
    for (const [key, a] of tensors) {
      const t = ndArrayToTensor(a, `optimizer slot '${key}'`);
      this.slotVars.set(key, variable(t, false));
      t.dispose();
    }
    this.paramSteps = steps;
    this.updates = state.step;
  }

  private disposeSlots(): void {
    for (const v of this.slotVars.values()) v.dispose();
    this.slotVars.clear();
  }

  dispose(): void {
    this.disposeSlots();
    this.paramSteps.clear();
    this.disposed = true;
  }
}

/**
 * Creates an optimizer from a validated configuration.
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, clipNorm: 5 });
 * // ... opt.applyGradients(params, grads) inside tf.tidy ...
 * const saved = await opt.getState();
 * const again = createOptimizer(opt.config);
 * again.setState(saved, params); // continues exactly
 * ```
 */
export function createOptimizer(config: OptimizerConfig | ResolvedOptimizerConfig): Optimizer {
  return new TfOptimizer(resolveOptimizerConfig(config));
}

/**
 * Re-keys the gradients returned by `tf.variableGrads` (keyed by tfjs variable names) by
 * parameter name.
 *
 * @example
 * ```ts
 * const { value, grads } = variableGrads(() => loss(), Object.values(params));
 * opt.applyGradients(params, gradsByName(params, grads));
 * ```
 */
export function gradsByName(params: NamedVariables, grads: Record<string, Tensor | null>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(params)) {
    const g = grads[v.name];
    if (g !== undefined && g !== null) out[name] = g;
  }
  return out;
}

/**
 * Whether a value looks like an {@link Optimizer} (rather than a configuration).
 *
 * @example
 * ```ts
 * isOptimizer(createOptimizer({ kind: 'sgd', lr: 0.1 })); // true
 * isOptimizer({ kind: 'sgd', lr: 0.1 });                  // false
 * ```
 */
export function isOptimizer(v: unknown): v is Optimizer {
  return typeof v === 'object' && v !== null && typeof (v as Optimizer).applyGradients === 'function' && typeof (v as Optimizer).getState === 'function';
}
