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

/**
 * Attention weights in the `nn.MultiheadAttention` layout: `<node>.in_proj_weight` `[3d, d]` (q, k
 * and v stacked by rows), `<node>.in_proj_bias` `[3d]`, `<node>.out_proj.weight` / `.bias`, from
 * the graph's `<node>.q|k|v|o.weight|bias`.
 */
function toMha(graph: ModelGraph, out: Map<string, NdArray>): Map<string, NdArray> {
  const att = describeGraph(graph).nodes.filter((n) => n.op === 'attention').map((n) => n.name);
  if (att.length === 0) return out;
  const res = new Map<string, NdArray>();
  for (const [k, v] of out) {
    const node = att.find((a) => k.startsWith(`${a}.`));
    if (node === undefined) {
      res.set(k, v);
      continue;
    }
    const rest = k.slice(node.length + 1);
    if (rest === 'q.weight' || rest === 'q.bias') {
      const kind = rest.slice(2);
      const parts = ['q', 'k', 'v'].map((m) => out.get(`${node}.${m}.${kind}`)!);
      const data = new (v.data.constructor as Float32ArrayConstructor)(3 * v.data.length);
      parts.forEach((p, i) => data.set(p.data as Float32Array, i * v.data.length));
      res.set(`${node}.in_proj_${kind}`, { dtype: v.dtype, shape: [3 * (v.shape[0] as number), ...v.shape.slice(1)], data });
    } else if (rest.startsWith('o.')) res.set(`${node}.out_proj.${rest.slice(2)}`, v);
    else if (!/^[kv]\.(weight|bias)$/.test(rest)) res.set(k, v);
  }
  return res;
}

/** The inverse of {@link toMha} on a state_dict being imported (entries of other nodes unchanged). */
function fromMha(graph: ModelGraph, byName: Map<string, NdArray>): void {
  for (const n of describeGraph(graph).nodes) {
    if (n.op !== 'attention') continue;
    for (const kind of ['weight', 'bias'] as const) {
      const key = `${n.name}.in_proj_${kind}`;
      const t = byName.get(key);
      if (t === undefined) continue;
      const rows = t.shape[0] as number;
      if (rows % 3 !== 0 || t.shape.length !== (kind === 'weight' ? 2 : 1)) {
        throw new BasisError('SHAPE_MISMATCH', `'${key}' has shape ${shapeStr(t.shape)}; nn.MultiheadAttention stacks q, k and v: [3d${kind === 'weight' ? ', d' : ''}]`, { details: { name: key } });
      }
      const len = t.data.length / 3;
      const sub = t.data as unknown as { subarray(a: number, b: number): ArrayLike<number> };
      ['q', 'k', 'v'].forEach((m, i) => byName.set(`${n.name}.${m}.${kind}`, { dtype: t.dtype, shape: [rows / 3, ...t.shape.slice(1)], data: sub.subarray(i * len, (i + 1) * len) } as NdArray));
      byName.delete(key);
    }
    for (const kind of ['weight', 'bias']) {
      const key = `${n.name}.out_proj.${kind}`;
      const t = byName.get(key);
      if (t === undefined) continue;
      byName.set(`${n.name}.o.${kind}`, t);
      byName.delete(key);
    }
  }
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
  fromMha(graph, byName);
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
  /**
   * Attention layout: `'separate'` (default: `<node>.q|k|v|o.weight|bias`, as the graph) or
   * `'mha'` (`nn.MultiheadAttention`: `in_proj_weight` `[3d, d]`, `in_proj_bias`, `out_proj.*`).
   * {@link importStateDict} reads both.
   */
  attention?: 'separate' | 'mha';
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
 * // a transformer with nn.MultiheadAttention names (in_proj_weight, out_proj.weight, ...)
 * await writeTorchFile('grok.pt', exportStateDict(transformerGraph, params, { attention: 'mha' }));
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
  const attention = opts.attention ?? 'separate';
  if (attention !== 'separate' && attention !== 'mha') throw new BasisError('INVALID_ARGUMENT', `attention must be 'separate' or 'mha', got ${String(attention)}`);
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
  return attention === 'mha' ? toMha(graph, out) : out;
}
