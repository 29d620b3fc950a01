// PyTorch state_dict import/export for zoo graphs. The graph IR already uses PyTorch names and
// layouts (dense weight [out, in], conv weight OIHW, batchnorm weight/bias/running_mean/running_var),
// so the conversion is a checked copy: names and shapes against describeGraph, dtypes to float32,
// PyTorch-only buffers (num_batches_tracked) accepted on import and written on export.
import { BasisError, type NdArray } from '@basis/tensor';
import { describeGraph, type ModelGraph, type ParamDict } from '../graph/index.js';

/**
 * Options of {@link importStateDict}.
 *
 * @example
 * ```ts
 * importStateDict(graph, tensors, { prefix: 'module.' } satisfies ImportStateDictOptions);
 * ```
 */
export interface ImportStateDictOptions {
  /**
   * A prefix to strip from every name, e.g. `'module.'` (DataParallel) or `'model.'`. Default:
   * `'module.'` is stripped when every name starts with it.
   */
  prefix?: string;
  /** Ignore entries the graph does not have (default false: BAD_FILE naming the first one). */
  allowExtra?: boolean;
}

/** Buffers PyTorch modules keep that a basis graph does not need. */
const IGNORED = /(^|\.)num_batches_tracked$/;

const FLOAT = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Turns a PyTorch state_dict (as read by `readTorch`/`readTorchFile`, or safetensors) into the
 * parameters of a zoo graph: every parameter and buffer of the graph must be present with its
 * exact shape (PyTorch layouts: dense `[out, in]`, conv OIHW); float64, float16 and bfloat16
 * values are converted to float32 (float32 values are copied bit for bit). `num_batches_tracked`
 * entries are accepted and ignored. A missing, extra or non-float entry raises BAD_FILE naming
 * it; a wrong shape raises SHAPE_MISMATCH naming the parameter and both shapes; NaN/Inf values
 * raise NON_FINITE_INPUT.
 *
 * @example
 * ```ts
 * import { readTorchFile } from '@basis/tensor/node';
 * const graph = buildModel({ arch: 'mlp', width: 512, depth: 2 }, { input: [784], classes: 10 });
 * const params = importStateDict(graph, (await readTorchFile('mlp.pt')).tensors);
 * ```
 */
export function importStateDict(
  graph: ModelGraph,
  tensors: ReadonlyMap<string, NdArray> | Readonly<Record<string, NdArray>>,
  opts: ImportStateDictOptions = {},
): ParamDict {
  const desc = describeGraph(graph);
  const entries: [string, NdArray][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, NdArray>).entries()] : Object.entries(tensors as Record<string, NdArray>);
  let prefix = opts.prefix;
  if (prefix === undefined && entries.length > 0 && entries.every(([k]) => k.startsWith('module.'))) prefix = 'module.';
  const byName = new Map<string, NdArray>();
  for (const [raw, t] of entries) {
    if (prefix !== undefined && prefix !== '') {
      if (!raw.startsWith(prefix)) {
        if (opts.allowExtra === true) continue;
        throw new BasisError('BAD_FILE', `state_dict entry '${raw}' does not start with the prefix '${prefix}'`, { details: { name: raw } });
      }
    }
    const name = prefix === undefined ? raw : raw.slice(prefix.length);
    if (IGNORED.test(name)) continue;
    byName.set(name, t);
  }
  const known = new Set(desc.params.map((p) => p.name));
  if (opts.allowExtra !== true) {
    for (const name of byName.keys()) {
      if (!known.has(name)) {
        throw new BasisError(
          'BAD_FILE',
          `the state_dict holds '${name}', which ${graph.name} does not have (its parameters: ${desc.params.slice(0, 6).map((p) => p.name).join(', ')}${desc.params.length > 6 ? ', ...' : ''}); is this file of another architecture or width?`,
          { details: { name } },
        );
      }
    }
  }
  const out: ParamDict = {};
  for (const p of desc.params) {
    const t = byName.get(p.name);
    if (t === undefined) {
      throw new BasisError('BAD_FILE', `the state_dict lacks '${p.name}' (shape ${shapeStr(p.shape)}) of ${graph.name}`, { details: { name: p.name } });
    }
    if (!FLOAT.has(t.dtype)) {
      throw new BasisError('BAD_FILE', `state_dict entry '${p.name}' has dtype ${t.dtype}; parameters must be floating point`, { details: { name: p.name } });
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${p.name}' has shape ${shapeStr(t.shape)} in the state_dict but ${graph.name} needs ${shapeStr(p.shape)}`, {
        details: { name: p.name, got: t.shape, want: p.shape },
      });
    }
    const data = t.data instanceof Float32Array ? Float32Array.from(t.data) : Float32Array.from(t.data as ArrayLike<number>);
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k] as number)) {
        const src = (t.data as ArrayLike<number>)[k] as number;
        const why = Number.isFinite(src) ? ` (${src} overflows float32)` : '';
        throw new BasisError('NON_FINITE_INPUT', `parameter '${p.name}' holds ${data[k]} at flat index ${k}${why}`, { details: { name: p.name, index: k } });
      }
    }
    out[p.name] = { shape: [...p.shape], data };
  }
  return out;
}

/**
 * Options of {@link exportStateDict}.
 *
 * @example
 * ```ts
 * exportStateDict(graph, params, { numBatchesTracked: 4690 } satisfies ExportStateDictOptions);
 * ```
 */
export interface ExportStateDictOptions {
  /** Value of every batchnorm's `num_batches_tracked` (int64 scalar; default 0). `false` leaves them out. */
  numBatchesTracked?: number | false;
  /** Element type of the exported values (default float32). */
  dtype?: 'float32' | 'float64';
}

/**
 * The parameters of a zoo graph as a PyTorch state_dict (name -> array, in the graph's parameter
 * order, which is PyTorch's module order), ready for `writeTorch`/`writeTorchFile` (loads with
 * `model.load_state_dict(torch.load(path))`, strict) or `writeSafetensors`. Batchnorm layers get
 * the int64 `num_batches_tracked` buffer PyTorch expects. Values are copied; names and shapes are
 * checked against the graph (SHAPE_MISMATCH / INVALID_ARGUMENT naming the parameter).
 *
 * @example
 * ```ts
 * import { writeTorchFile } from '@basis/tensor/node';
 * await writeTorchFile('mlp.pt', exportStateDict(graph, result.params));
 * ```
 */
export function exportStateDict(
  graph: ModelGraph,
  params: Readonly<Record<string, { shape: readonly number[]; data: ArrayLike<number> }>>,
  opts: ExportStateDictOptions = {},
): Map<string, NdArray> {
  const desc = describeGraph(graph);
  const known = new Set(desc.params.map((p) => p.name));
  for (const k of Object.keys(params)) {
    if (!known.has(k)) throw new BasisError('INVALID_ARGUMENT', `parameter '${k}' does not belong to ${graph.name}`, { details: { name: k } });
  }
  const nbt = opts.numBatchesTracked ?? 0;
  if (nbt !== false && !(Number.isSafeInteger(nbt) && nbt >= 0)) throw new BasisError('INVALID_ARGUMENT', `numBatchesTracked must be an integer >= 0 or false, got ${String(nbt)}`);
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new BasisError('INVALID_ARGUMENT', `dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  const ops = new Map(desc.nodes.map((n) => [n.name, n.op]));
  const out = new Map<string, NdArray>();
  for (const p of desc.params) {
    const a = params[p.name];
    if (a === undefined) throw new BasisError('INVALID_ARGUMENT', `parameter '${p.name}' of ${graph.name} is missing`, { details: { name: p.name } });
    if (a.shape.length !== p.shape.length || a.shape.some((d, i) => d !== p.shape[i])) {
      throw new BasisError('SHAPE_MISMATCH', `parameter '${p.name}' has shape ${shapeStr(a.shape)} but ${graph.name} needs ${shapeStr(p.shape)}`, { details: { name: p.name } });
    }
    const data = dtype === 'float32' ? Float32Array.from(a.data) : Float64Array.from(a.data);
    out.set(p.name, { dtype, shape: [...p.shape], data });
    if (nbt !== false && ops.get(p.node) === 'batchnorm' && p.name === `${p.node}.running_var`) {
      out.set(`${p.node}.num_batches_tracked`, { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(nbt)) });
    }
  }
  return out;
}
