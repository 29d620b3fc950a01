import { BasisError, createRng, type Rng } from '@basis/tensor';
import { act, checkSpecShapes, sampleAssignment, transformFeature, type Assignment } from './action.js';
import type { SampleOptions } from './groups.js';
import { validateSpec, type SymmetrySpec } from './spec.js';
import { relativeError, toParams, toTensor, type Tensor, type TensorLike } from './tensor.js';

/** What a forward function returns: the output, or the output with named features (capture points). */
export type ForwardOutput = TensorLike | { output: TensorLike; features?: Readonly<Record<string, TensorLike>> };

/** A model's forward pass on fixed inputs, as a function of its named parameters (sync or async). */
export type ForwardFn = (params: Record<string, Tensor>) => ForwardOutput | Promise<ForwardOutput>;

/** Options of {@link verifySpec}. */
export interface VerifyOptions extends SampleOptions {
  /** Random elements per group, and joint trials of all groups at once (default 2). */
  trials?: number;
  /** Generator for the elements (default `createRng(seed)`). */
  rng?: Rng;
  /** Seed when no rng is given (default 0). */
  seed?: number;
  /** Largest accepted relative sup-norm error of outputs and features (default 1e-8). */
  tol?: number;
  /** Throw NOT_A_SYMMETRY when a check fails (default true); otherwise return the report. */
  throwOnFailure?: boolean;
  /** Check only these groups (default: all). */
  groups?: readonly string[];
}

/** One check's verdict. */
export interface CheckResult {
  worstError: number;
  ok: boolean;
}

/** What {@link verifySpec} measured. */
export interface VerifyReport {
  ok: boolean;
  tol: number;
  trials: number;
  /** Worst relative output change over every trial. */
  worstOutputError: number;
  /** Worst relative feature error over every declared feature and trial (0 without features). */
  worstFeatureError: number;
  /** Per group: output change when only that group acts. */
  groups: Array<{ name: string; kind: string; size: number } & CheckResult>;
  /** Per declared feature present in the forward output: the error of the declared transform. */
  features: Array<{ name: string; group: string; transform: 'A' | 'phi' | 'perm' } & CheckResult>;
  /** All groups acting at once. */
  joint: CheckResult;
  /** Names of the groups and features that failed. */
  offending: string[];
}

function split(out: ForwardOutput): { output: Tensor; features: Record<string, Tensor> } {
  if (out !== null && typeof out === 'object' && 'output' in out) {
    const features: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(out.features ?? {})) features[k] = toTensor(v, `forward feature '${k}'`);
    return { output: toTensor(out.output, 'forward output'), features };
  }
  return { output: toTensor(out as TensorLike, 'forward output'), features: {} };
}

function sameShape(a: Tensor, b: Tensor, what: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new BasisError('SHAPE_MISMATCH', `${what} changed shape under the action: [${b.shape.join(', ')}] -> [${a.shape.join(', ')}]`);
  }
}

/**
 * Checks that a spec is a true symmetry of a model: samples group elements, acts on the
 * parameters, reruns `forward`, and compares. Each group is tried alone (so a failure names the
 * offending group) and all groups jointly; every feature the spec declares and `forward` returns
 * must transform by A (pre-activation) or φ(A) (post-activation) of its group and stay unchanged
 * under the other groups. Reports the worst relative errors; throws NOT_A_SYMMETRY naming the
 * offending groups/features unless `throwOnFailure: false`.
 *
 * @example
 * ```ts
 * import { verifySpec } from '@basis/symmetry';
 * const report = await verifySpec((p) => ({ output: mlp(p, X), features: { 'hidden.0.post': h(p, X) } }), params, spec);
 * report.worstOutputError; // ~1e-15 for a true symmetry
 * ```
 */
export async function verifySpec(
  forward: ForwardFn,
  params: Readonly<Record<string, TensorLike>>,
  spec: SymmetrySpec,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  if (typeof forward !== 'function') throw new BasisError('INVALID_ARGUMENT', 'verifySpec: forward must be a function of the parameters');
  validateSpec(spec);
  const p = toParams(params);
  const trials = opts.trials ?? 2;
  if (!Number.isInteger(trials) || trials < 1) throw new BasisError('INVALID_ARGUMENT', `trials must be a positive integer, got ${trials}`);
  const tol = opts.tol ?? 1e-8;
  if (!(tol > 0) || !Number.isFinite(tol)) throw new BasisError('INVALID_ARGUMENT', `tol must be a positive finite number, got ${tol}`);
  const rng = opts.rng ?? createRng(opts.seed ?? 0);
  const names = opts.groups ?? Object.keys(spec.groups);
  for (const g of names) if (spec.groups[g] === undefined) throw new BasisError('INVALID_ARGUMENT', `verifySpec: unknown group '${g}'`);
  checkSpecShapes(p, spec);
  const base = split(await forward(p));
  const declared = Object.entries(spec.features ?? {}).filter(([name]) => base.features[name] !== undefined);
  const featureWorst = new Map<string, number>(declared.map(([n]) => [n, 0]));

  const trial = async (assignment: Assignment): Promise<number> => {
    const moved = split(await forward(act(p, spec, assignment)));
    sameShape(moved.output, base.output, 'the output');
    const outErr = relativeError(moved.output.data, base.output.data);
    for (const [name] of declared) {
      const got = moved.features[name];
      if (got === undefined) throw new BasisError('INVALID_ARGUMENT', `forward returned feature '${name}' for the original parameters but not for the transformed ones`);
      const want = transformFeature(base.features[name] as Tensor, spec, name, assignment);
      sameShape(got, want, `feature '${name}'`);
      featureWorst.set(name, Math.max(featureWorst.get(name) as number, relativeError(got.data, want.data)));
    }
    return outErr;
  };

  const groups: VerifyReport['groups'] = [];
  for (const name of names) {
    let worst = 0;
    for (let t = 0; t < trials; t++) {
      worst = Math.max(worst, await trial(sampleAssignment(spec, rng, { ...opts, groups: [name] })));
    }
    const decl = spec.groups[name]!;
    groups.push({ name, kind: decl.kind, size: decl.size, worstError: worst, ok: worst <= tol });
  }
  let jointWorst = 0;
  for (let t = 0; t < trials; t++) jointWorst = Math.max(jointWorst, await trial(sampleAssignment(spec, rng, { ...opts, groups: names })));
  const features: VerifyReport['features'] = declared.map(([name, f]) => {
    const w = featureWorst.get(name) as number;
    return { name, group: f.group, transform: f.transform, worstError: w, ok: w <= tol };
  });
  const offending = [...groups.filter((g) => !g.ok).map((g) => g.name), ...features.filter((f) => !f.ok).map((f) => f.name)];
  const joint = { worstError: jointWorst, ok: jointWorst <= tol };
  const report: VerifyReport = {
    ok: offending.length === 0 && joint.ok,
    tol,
    trials,
    worstOutputError: Math.max(jointWorst, ...groups.map((g) => g.worstError)),
    worstFeatureError: Math.max(0, ...features.map((f) => f.worstError)),
    groups,
    features,
    joint,
    offending,
  };
  if (!report.ok && (opts.throwOnFailure ?? true)) {
    const parts = [
      ...groups.filter((g) => !g.ok).map((g) => `group '${g.name}' (${g.kind}, ${g.size} units) changes the outputs by ${g.worstError.toExponential(2)}`),
      ...features.filter((f) => !f.ok).map((f) => `feature '${f.name}' does not transform by ${f.transform === 'A' ? 'A' : f.transform === 'perm' ? "the permutation part of A" : 'φ(A)'} of group '${f.group}' (error ${f.worstError.toExponential(2)})`),
    ];
    if (parts.length === 0) parts.push(`the groups acting together change the outputs by ${jointWorst.toExponential(2)}`);
    throw new BasisError(
      'NOT_A_SYMMETRY',
      `the spec is not a symmetry of this model: ${parts.join('; ')} (relative tolerance ${tol}). Check that the axes of each group are right and that residual streams share one group`,
      { details: { report } },
    );
  }
  return report;
}
