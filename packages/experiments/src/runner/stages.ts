// The capture and comparison stages of a run, described as JSON so that they can run anywhere:
// on the submitter (the local path of `RunContext.compare`) or as `capture` and `compare` jobs of
// the Redis queue, whose workers compute them into the shared store. Both paths call the same
// functions below, so a comparison computed on a worker is the value a local run computes.
import * as tf from '@tensorflow/tfjs-core';
import { getMetric, metric, resolveOptions } from '@basis/align';
import { BasisError, matrixToNdarray, ndarrayToMatrix, readSafetensors, writeSafetensors, type Matrix } from '@basis/tensor';
import { parseDataSpec, type ModelGraph } from '@basis/zoo';
import { capture, datasetTensor, untrained } from '../recipes/common.js';
import { checkKeys, checkList, checkObject, invalid, show } from './check.js';
import type { CaptureSpec, CompareSpec, CompareValues, ModelRef } from './compare-spec.js';
import { loadData } from './data.js';
import { contentHash } from './json.js';

export type { CaptureSpec, CompareSpec, CompareValues, ModelRef } from './compare-spec.js';

const KEY = /^[0-9a-f]{64}$/;

function checkRef(v: unknown, field: string): ModelRef {
  const o = checkObject(v, field);
  if ('key' in o) {
    checkKeys(o, ['key'], field);
    if (typeof o.key !== 'string' || !KEY.test(o.key)) invalid(`${field}.key`, `must be the key of a cached model (64 hex digits), got ${show(o.key)}`);
    return { key: o.key as string };
  }
  if ('untrained' in o) {
    checkKeys(o, ['untrained'], field);
    const u = checkObject(o.untrained, `${field}.untrained`);
    checkKeys(u, ['like', 'seed'], `${field}.untrained`);
    if (typeof u.like !== 'string' || !KEY.test(u.like)) invalid(`${field}.untrained.like`, `must be the key of a cached model (64 hex digits), got ${show(u.like)}`);
    if (typeof u.seed !== 'number' || !Number.isSafeInteger(u.seed) || u.seed < 0) invalid(`${field}.untrained.seed`, `must be a non-negative integer, got ${show(u.seed)}`);
    return { untrained: { like: u.like as string, seed: u.seed as number } };
  }
  return invalid(field, 'must be { key } (a cached model) or { untrained: { like, seed } }');
}

/**
 * Validates a {@link CompareSpec}: CONFIG_INVALID naming the field (unknown metric ids and options
 * included), so a bad comparison fails before anything is computed or enqueued.
 *
 * @example
 * ```ts
 * checkCompareSpec({ metrics: ['permcorr'], data, inputs: 500, points: ['layers.1'], a: { key }, b: { key: other } }, 'specs[0]');
 * ```
 */
export function checkCompareSpec(v: unknown, field = 'spec'): CompareSpec {
  const o = checkObject(v, field);
  checkKeys(o, ['metrics', 'options', 'data', 'inputs', 'split', 'points', 'a', 'b', 'label'], field);
  const metrics = checkList(o.metrics, `${field}.metrics`, (x, f) => {
    if (typeof x !== 'string') return invalid(f, `must be a metric id, got ${show(x)}`);
    try {
      return getMetric(x).id;
    } catch (e) {
      return invalid(f, e instanceof Error ? e.message : String(e));
    }
  });
  if (metrics.length === 0) invalid(`${field}.metrics`, 'must list at least one metric id');
  const options: Record<string, Record<string, unknown>> = {};
  if (o.options !== undefined) {
    const opt = checkObject(o.options, `${field}.options`);
    for (const [id, val] of Object.entries(opt)) {
      if (!metrics.includes(id)) invalid(`${field}.options.${id}`, `names a metric that is not in metrics (${metrics.join(', ')})`);
      const given = checkObject(val, `${field}.options.${id}`);
      try {
        resolveOptions(id, given);
      } catch (e) {
        invalid(`${field}.options.${id}`, e instanceof Error ? e.message : String(e));
      }
      options[id] = given;
    }
  }
  const data = parseDataSpec(o.data, `${field}.data`);
  if (typeof o.inputs !== 'number' || !Number.isSafeInteger(o.inputs) || o.inputs < 2) invalid(`${field}.inputs`, `must be an integer >= 2, got ${show(o.inputs)}`);
  const split = o.split ?? 'test';
  if (split !== 'test' && split !== 'train') invalid(`${field}.split`, `must be 'test' or 'train', got ${show(o.split)}`);
  const points = checkList(o.points, `${field}.points`, (x, f) => (typeof x === 'string' && x !== '' ? x : invalid(f, `must be a capture point (node name), got ${show(x)}`)));
  if (points.length === 0) invalid(`${field}.points`, 'must list at least one capture point');
  if (new Set(points).size !== points.length) invalid(`${field}.points`, 'lists a point twice');
  const out: CompareSpec = { metrics, data, inputs: o.inputs as number, split: split as 'test' | 'train', points, a: checkRef(o.a, `${field}.a`), b: checkRef(o.b, `${field}.b`) };
  if (Object.keys(options).length > 0) out.options = options;
  if (o.label !== undefined) {
    if (typeof o.label !== 'string') invalid(`${field}.label`, `must be a string, got ${show(o.label)}`);
    out.label = o.label;
  }
  return out;
}

/** The capture of side `a` or `b` of a comparison. */
export function captureOf(spec: CompareSpec, side: 'a' | 'b'): CaptureSpec {
  return { model: spec[side], data: spec.data, inputs: spec.inputs, split: spec.split ?? 'test', points: spec.points };
}

/**
 * The content key of a capture: the model, inputs and points, the package versions and the tfjs
 * backend that runs the forward pass (activations may differ in the last bits between backends).
 */
export function captureKey(c: CaptureSpec, versions: Record<string, string>, tfBackend: string): string {
  return contentHash({ kind: 'basis.experiments.capture', capture: c, versions, tf: tfBackend });
}

/** The store path of a capture: `captures/<key>.safetensors` (one tensor per point, float64). */
export function captureArtifact(key: string): string {
  return `captures/${key}.safetensors`;
}

/** The memo key (as for `RunContext.cached`) of a comparison: everything but its label. */
export function compareMemoKey(spec: CompareSpec): Record<string, unknown> {
  const { label: _label, ...rest } = spec;
  void _label;
  return { what: 'basis.compare', ...rest, split: spec.split ?? 'test', options: spec.options ?? {} };
}

/**
 * The file name hash of a memoised value of `RunContext.cached` (`dir/cache/<hash>.json`): the
 * recipe id, the key and the package versions.
 */
export function memoHash(recipeId: string, key: unknown, versions: Record<string, string>): string {
  return contentHash({ kind: 'basis.experiments.memo', recipe: recipeId, key, versions });
}

/** The store path of a memoised value (`cache/<hash>.json`). */
export function memoArtifact(hash: string): string {
  return `cache/${hash}.json`;
}

/**
 * The activations of a model (graph and float64 parameters) at `c.points` on the first `c.inputs`
 * examples of `c.split`: the forward pass of the recipes (`capture` of recipes/common).
 */
export async function captureActivationsOf(graph: ModelGraph, params: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, c: CaptureSpec): Promise<Record<string, Matrix>> {
  const split = await loadData(c.data, 'data');
  const ev = datasetTensor(split[c.split], c.inputs);
  try {
    return await capture(graph, params, ev.x, c.points);
  } finally {
    ev.dispose();
  }
}

/** Untrained float64 parameters of a graph for `seed` (the recipes' reference models). */
export function untrainedParams(graph: ModelGraph, seed: number): Record<string, { shape: number[]; data: Float64Array }> {
  return untrained(graph, seed);
}

/** Every metric of `spec` at every point, on captured activations (A of side a, B of side b). */
export function compareCaptured(spec: CompareSpec, A: Record<string, Matrix>, B: Record<string, Matrix>): CompareValues {
  const out: CompareValues = {};
  for (const id of spec.metrics) {
    const opts = spec.options?.[id] ?? {};
    out[id] = spec.points.map((p) => {
      const x = A[p];
      const y = B[p];
      if (x === undefined || y === undefined) throw new BasisError('CONFIG_INVALID', `compare: no activations at point '${p}' (captured: ${Object.keys(x === undefined ? A : B).join(', ')})`);
      return metric(id, x, y, opts).value;
    });
  }
  return out;
}

/** A capture as bytes (safetensors, one float64 tensor per point). */
export function encodeCapture(acts: Record<string, Matrix>, points: readonly string[]): Uint8Array {
  const tensors: Record<string, ReturnType<typeof matrixToNdarray>> = {};
  for (const p of points) {
    const m = acts[p];
    if (m === undefined) throw new BasisError('INVALID_ARGUMENT', `capture: no activations at point '${p}'`);
    tensors[p] = matrixToNdarray(m);
  }
  return writeSafetensors(tensors, { format: 'basis.capture' });
}

/** The activations of a stored capture (BAD_FILE when a point is missing or the file is damaged). */
export function decodeCapture(bytes: Uint8Array, points: readonly string[], what: string): Record<string, Matrix> {
  const content = readSafetensors(bytes);
  const out: Record<string, Matrix> = {};
  for (const p of points) {
    const t = content.tensors.get(p);
    if (t === undefined) throw new BasisError('BAD_FILE', `${what} holds no activations for point '${p}'`);
    out[p] = ndarrayToMatrix(t, `${what}:${p}`);
  }
  return out;
}

/** The name of the active tfjs backend (recorded in capture keys and queue payloads). */
export function activeTfBackend(): string {
  return tf.getBackend() ?? 'none';
}
