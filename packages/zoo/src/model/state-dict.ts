// PyTorch state_dict import/export for zoo graphs. The graph IR already uses PyTorch layouts
// (dense weight [out, in], conv weight OIHW, batchnorm weight/bias/running_mean/running_var), so
// the conversion is a checked copy: names resolved (key map, prefix, names, then structure: see
// state-dict-map.ts), shapes against describeGraph, dtypes to float32, PyTorch-only buffers
// (num_batches_tracked) accepted on import and written on export, under the file's own names
// when the import kept them (graph.meta.torch).
import { BasisError, type NdArray } from '@basis/tensor';
import { describeGraph, type ModelGraph, type ParamDict } from '../graph/index.js';
import { compileKeyMap, matchByStructure, type GraphGroup, type KeyMap, type ModuleEntry } from './state-dict-map.js';

/**
 * Options of {@link importStateDict} and {@link mapStateDict}.
 *
 * @example
 * ```ts
 * importStateDict(graph, tensors, { prefix: 'module.' } satisfies ImportStateDictOptions);
 * mapStateDict(graph, tensors, { keyMap: ['^backbone\\.=', '^fc\\.=head.'], order: 'names' });
 * ```
 */
export interface ImportStateDictOptions {
  /**
   * A prefix to strip from every name, e.g. `'module.'` (DataParallel) or `'model.'`. Default:
   * `module.`, `model.`, `net.` and `_orig_mod.` (torch.compile) are stripped, repeatedly, while
   * every name starts with one of them (and no graph parameter does).
   */
  prefix?: string;
  /** Ignore entries the graph does not have (default false: BAD_FILE naming the first one). */
  allowExtra?: boolean;
  /**
   * Explicit renames applied (after the prefix) before anything else: `'regex=replacement'`
   * rules or a function (see {@link KeyMap}); a key renamed to `''`/`null` is ignored.
   */
  keyMap?: KeyMap;
  /**
   * What the entries' order means for the structural match (used for the entries whose names
   * the graph does not have): `'file'` (default) — PyTorch's module order, as in a `.pt`
   * state_dict; `'names'` — no order (safetensors files sort entries by name): only
   * `nn.Sequential` indices and numbered names (`conv1` < `conv2`) order modules.
   */
  order?: 'file' | 'names';
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

/** The inverse of {@link toMha} on a state_dict being imported (entries of other nodes unchanged); returns new name -> source name. */
function fromMha(graph: ModelGraph, byName: Map<string, NdArray>): Map<string, string> {
  const from = new Map<string, string>();
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
      ['q', 'k', 'v'].forEach((m, i) => {
        byName.set(`${n.name}.${m}.${kind}`, { dtype: t.dtype, shape: [rows / 3, ...t.shape.slice(1)], data: sub.subarray(i * len, (i + 1) * len) } as NdArray);
        from.set(`${n.name}.${m}.${kind}`, key);
      });
      byName.delete(key);
    }
    for (const kind of ['weight', 'bias']) {
      const key = `${n.name}.out_proj.${kind}`;
      const t = byName.get(key);
      if (t === undefined) continue;
      byName.set(`${n.name}.o.${kind}`, t);
      from.set(`${n.name}.o.${kind}`, key);
      byName.delete(key);
    }
  }
  return from;
}

/** Buffers PyTorch modules keep that a basis graph does not need. */
const IGNORED = /(^|\.)num_batches_tracked$/;

const FLOAT = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * How one state_dict entry was used by {@link mapStateDict}: `used` under its own name,
 * `renamed` to a graph parameter (by a stripped prefix, the key map, or the structural match)
 * or `ignored` (with the reason).
 *
 * @example
 * ```ts
 * const e: StateDictReportEntry = { key: '0.weight', param: 'layers.0.weight', status: 'renamed', via: 'structure' };
 * ```
 */
export interface StateDictReportEntry {
  /** The key in the file. */
  readonly key: string;
  /** The graph parameter it became (null when ignored). */
  readonly param: string | null;
  readonly status: 'used' | 'renamed' | 'ignored';
  /** How the name was found: by name, by stripping a prefix, by the key map, by structure, or from nn.MultiheadAttention's layout. */
  readonly via: 'name' | 'prefix' | 'key-map' | 'structure' | 'attention' | null;
  /** Why an entry was ignored. */
  readonly note?: string;
}

/**
 * The import report of {@link mapStateDict}: every entry of the file, in file order.
 *
 * @example
 * ```ts
 * const { report } = mapStateDict(graph, tensors);
 * report.method; // 'structure' when some names were not the graph's
 * ```
 */
export interface StateDictReport {
  /** `'names'`: every parameter found by its name (after prefix and key map); `'structure'`: some by the structural match. */
  readonly method: 'names' | 'structure';
  /** The prefix stripped from every key ('' for none). */
  readonly prefix: string;
  readonly entries: readonly StateDictReportEntry[];
}

/**
 * PyTorch's names of an imported model's parameters, kept with the graph (`graph.meta.torch`)
 * so that {@link exportStateDict} writes them back: graph parameter -> file key, and batchnorm
 * node -> its `num_batches_tracked` key (present only when the file had it).
 *
 * @example
 * ```ts
 * const names: TorchNames = { names: { 'layers.0.weight': '0.weight' }, numBatchesTracked: {} };
 * ```
 */
export interface TorchNames {
  readonly names: Readonly<Record<string, string>>;
  readonly numBatchesTracked: Readonly<Record<string, string>>;
}

/**
 * Result of {@link mapStateDict}.
 *
 * @example
 * ```ts
 * const { params, report, torchNames }: StateDictImport = mapStateDict(graph, tensors);
 * ```
 */
export interface StateDictImport {
  readonly params: ParamDict;
  readonly report: StateDictReport;
  /** The file's names when they differ from the graph's (else null); attach with {@link withTorchNames}. */
  readonly torchNames: TorchNames | null;
}

const AUTO_PREFIXES = ['module.', 'model.', 'net.', '_orig_mod.'];

/**
 * Maps a PyTorch state_dict (as read by `readTorch`/`readTorchFile`, or safetensors) onto the
 * parameters of a zoo graph, and reports how. Names are resolved in this order:
 * 1. the explicit key map (`opts.keyMap`) and a wrapper prefix (`module.`, `model.`, `net.`,
 *    `_orig_mod.`, or `opts.prefix`);
 * 2. entries named like a graph parameter are that parameter;
 * 3. the rest is matched by structure: the file's modules, in PyTorch's module order (see
 *    `opts.order`), against the graph's remaining nodes, each module's parameter names and shapes
 *    equal to its node's (so an `nn.Sequential` MLP's `0.weight, 2.weight, ...` or a CNN's
 *    `features.N`/`classifier.N` map onto the zoo's names). Two possible mappings (modules of
 *    equal shapes whose order the file does not tell) are an error listing the candidates.
 * `num_batches_tracked` entries are accepted, reported as ignored, and remembered for export.
 * Every parameter must then have its exact shape (PyTorch layouts: dense `[out, in]`, conv
 * OIHW); float64, float16 and bfloat16 values are converted to float32 (float32 bit for bit).
 * A missing, extra, unmappable or non-float entry raises BAD_FILE naming it; a wrong shape
 * SHAPE_MISMATCH naming the parameter and both shapes; NaN/Inf values NON_FINITE_INPUT.
 *
 * @example
 * ```ts
 * import { readTorchFile } from '@basis/tensor/node';
 * const graph = buildModel({ arch: 'mlp', width: [64, 32] }, { input: [784], classes: 10 });
 * const { params, report, torchNames } = mapStateDict(graph, (await readTorchFile('sequential.pt')).tensors);
 * console.log(formatStateDictReport(report)); // 0.weight -> layers.0.weight (structure), ...
 * const model = { graph: withTorchNames(graph, torchNames), params }; // exports as 0.weight, ...
 * ```
 */
export function mapStateDict(
  graph: ModelGraph,
  tensors: ReadonlyMap<string, NdArray> | Readonly<Record<string, NdArray>>,
  opts: ImportStateDictOptions = {},
): StateDictImport {
  const desc = describeGraph(graph);
  if (tensors === null || typeof tensors !== 'object') throw new BasisError('INVALID_ARGUMENT', 'the state_dict must be a Map or an object of arrays');
  const entries: [string, NdArray][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, NdArray>).entries()] : Object.entries(tensors as Record<string, NdArray>);
  const order = opts.order ?? 'file';
  if (order !== 'file' && order !== 'names') throw new BasisError('INVALID_ARGUMENT', `order must be 'file' or 'names', got ${String(order)}`);
  const rename = compileKeyMap(opts.keyMap);
  const known = new Set(desc.params.map((p) => p.name));
  let prefix = opts.prefix ?? '';
  if (opts.prefix === undefined) {
    for (;;) {
      const rest = entries.map(([k]) => k.slice(prefix.length));
      const p = AUTO_PREFIXES.find((c) => rest.length > 0 && rest.every((k) => k.startsWith(c)) && !desc.params.some((q) => q.name.startsWith(c)));
      if (p === undefined) break;
      prefix += p;
    }
  }
  const report = new Map<string, StateDictReportEntry>();
  const byName = new Map<string, NdArray>();
  const rawOf = new Map<string, string>();
  const viaOf = new Map<string, 'name' | 'prefix' | 'key-map'>();
  const nbt = new Set<string>();
  for (const [raw, t] of entries) {
    if (prefix !== '' && !raw.startsWith(prefix)) {
      if (opts.allowExtra === true) {
        report.set(raw, { key: raw, param: null, status: 'ignored', via: null, note: `does not start with the prefix '${prefix}'` });
        continue;
      }
      throw new BasisError('BAD_FILE', `state_dict entry '${raw}' does not start with the prefix '${prefix}'`, { details: { name: raw } });
    }
    const stripped = raw.slice(prefix.length);
    if (IGNORED.test(stripped)) {
      nbt.add(raw);
      report.set(raw, { key: raw, param: null, status: 'ignored', via: null, note: 'PyTorch batchnorm counter, not needed (written back on export)' });
      continue;
    }
    const name = rename === null ? stripped : rename(stripped);
    if (name === null) {
      report.set(raw, { key: raw, param: null, status: 'ignored', via: null, note: 'dropped by the key map' });
      continue;
    }
    if (byName.has(name)) throw new BasisError('BAD_FILE', `two state_dict entries become '${name}' (the second is '${raw}'); fix the key map`, { details: { name } });
    byName.set(name, t);
    rawOf.set(name, raw);
    viaOf.set(name, name !== stripped ? 'key-map' : prefix !== '' ? 'prefix' : 'name');
  }
  const mha = fromMha(graph, byName);
  for (const [name, from] of mha) {
    rawOf.set(name, rawOf.get(from) ?? from);
    viaOf.delete(name);
  }
  let method: 'names' | 'structure' = 'names';
  const structural = new Set<string>();
  const remainingFile = [...byName.keys()].filter((k) => !known.has(k));
  const remainingGraph = desc.params.filter((p) => !byName.has(p.name));
  if (remainingFile.length > 0 && remainingGraph.length === 0) {
    if (opts.allowExtra !== true) {
      const name = remainingFile[0] as string;
      throw new BasisError(
        'BAD_FILE',
        `the state_dict holds '${name}', which ${graph.name} does not have (its parameters: ${desc.params.slice(0, 6).map((p) => p.name).join(', ')}${desc.params.length > 6 ? ', ...' : ''}); is this file of another architecture or width?`,
        { details: { name } },
      );
    }
    for (const k of remainingFile) {
      const raw = rawOf.get(k) ?? k;
      report.set(raw, { key: raw, param: null, status: 'ignored', via: null, note: `${graph.name} has no such parameter (allowExtra)` });
      byName.delete(k);
    }
  } else if (remainingFile.length > 0) {
    if (opts.allowExtra === true) {
      const p = remainingGraph[0] as (typeof remainingGraph)[number];
      throw new BasisError('BAD_FILE', `the state_dict lacks '${p.name}' (shape ${shapeStr(p.shape)}) of ${graph.name} (allowExtra matches by name only)`, { details: { name: p.name } });
    }
    method = 'structure';
    const fileEntries: ModuleEntry[] = remainingFile.map((k) => {
      const dot = k.lastIndexOf('.');
      return { key: k, suffix: k.slice(dot + 1), shape: byName.get(k)!.shape };
    });
    const groups: GraphGroup[] = [];
    for (const p of remainingGraph) {
      const entry = { key: p.name, suffix: p.name.slice(p.node.length + 1), shape: p.shape };
      const last = groups[groups.length - 1];
      if (last !== undefined && last.node === p.node) (last.entries as ModuleEntry[]).push(entry);
      else groups.push({ node: p.node, entries: [entry] });
    }
    const match = matchByStructure(fileEntries, groups, order, graph.name);
    for (const [param, fileKey] of match) {
      const t = byName.get(fileKey)!;
      byName.delete(fileKey);
      byName.set(param, t);
      rawOf.set(param, rawOf.get(fileKey) ?? fileKey);
      viaOf.delete(fileKey);
      structural.add(param);
    }
  }
  const out: ParamDict = {};
  for (const p of desc.params) {
    const t = byName.get(p.name);
    if (t === undefined) {
      throw new BasisError('BAD_FILE', `the state_dict lacks '${p.name}' (shape ${shapeStr(p.shape)}) of ${graph.name}`, { details: { name: p.name } });
    }
    if (!FLOAT.has(t.dtype)) {
      throw new BasisError('BAD_FILE', `state_dict entry '${rawOf.get(p.name) ?? p.name}' has dtype ${t.dtype}; parameters must be floating point`, { details: { name: p.name } });
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
  // the report, in file order
  const paramOfRaw = new Map<string, { param: string; via: StateDictReportEntry['via'] }>();
  for (const p of desc.params) {
    const raw = rawOf.get(p.name);
    if (raw === undefined) continue;
    const via = structural.has(p.name) ? 'structure' : mha.has(p.name) ? 'attention' : (viaOf.get(p.name) ?? 'name');
    if (!paramOfRaw.has(raw)) paramOfRaw.set(raw, { param: p.name, via });
  }
  const listed: StateDictReportEntry[] = entries.map(([raw]) => {
    const r = report.get(raw);
    if (r !== undefined) return r;
    const m = paramOfRaw.get(raw);
    if (m === undefined) return { key: raw, param: null, status: 'ignored', via: null, note: `${graph.name} has no such parameter` };
    return { key: raw, param: m.param, status: m.param === raw ? 'used' : 'renamed', via: m.via };
  });
  let torchNames: TorchNames | null = null;
  if (mha.size === 0 && listed.some((e) => e.status === 'renamed')) {
    const names: Record<string, string> = {};
    const counters: Record<string, string> = {};
    for (const p of desc.params) {
      const raw = rawOf.get(p.name) as string;
      names[p.name] = raw;
      if (p.name === `${p.node}.running_var` && raw.endsWith('running_var')) {
        const c = `${raw.slice(0, -'running_var'.length)}num_batches_tracked`;
        if (nbt.has(c)) counters[p.node] = c;
      }
    }
    torchNames = { names, numBatchesTracked: counters };
  }
  return { params: out, report: { method, prefix, entries: listed }, torchNames };
}

/**
 * Turns a PyTorch state_dict into the parameters of a zoo graph: {@link mapStateDict} without
 * the report (names resolved the same way: key map, prefix, names, structure).
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
  return mapStateDict(graph, tensors, opts).params;
}

/**
 * The graph with the file's PyTorch names kept in `meta.torch` (so that saving and
 * {@link exportStateDict} write them back); `null` returns the graph unchanged.
 *
 * @example
 * ```ts
 * const { params, torchNames } = mapStateDict(graph, tensors);
 * const g = withTorchNames(graph, torchNames);
 * exportStateDict(g, params).keys(); // the file's keys again
 * ```
 */
export function withTorchNames(graph: ModelGraph, torch: TorchNames | null): ModelGraph {
  if (torch === null) return graph;
  return { ...graph, meta: { ...(graph.meta ?? {}), torch } };
}

/**
 * One line per entry of an import report, for people: `key -> param (via)` or `key ignored: why`,
 * after a summary line.
 *
 * @example
 * ```ts
 * process.stderr.write(formatStateDictReport(mapStateDict(graph, tensors).report) + '\n');
 * ```
 */
export function formatStateDictReport(report: StateDictReport): string {
  const n = (s: StateDictReportEntry['status']): number => report.entries.filter((e) => e.status === s).length;
  const lines = [
    `state_dict: ${report.entries.length} entries, ${n('used')} used by name, ${n('renamed')} renamed, ${n('ignored')} ignored${report.method === 'structure' ? ' (names matched by module order and shapes)' : ''}${report.prefix !== '' ? `; prefix '${report.prefix}' stripped` : ''}`,
  ];
  for (const e of report.entries) {
    if (e.status === 'ignored') lines.push(`  ${e.key}  ignored: ${e.note ?? ''}`);
    else if (e.status === 'renamed') lines.push(`  ${e.key}  -> ${e.param} (${e.via})`);
    else lines.push(`  ${e.key}  used`);
  }
  return lines.join('\n');
}

function torchNamesOf(graph: ModelGraph): TorchNames | null {
  const t = (graph.meta as { torch?: unknown } | undefined)?.torch;
  if (t === undefined || t === null) return null;
  const o = t as { names?: unknown; numBatchesTracked?: unknown };
  const isMap = (v: unknown): v is Record<string, string> => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' && x !== '');
  if (!isMap(o.names) || !isMap(o.numBatchesTracked)) throw new BasisError('INVALID_ARGUMENT', `${graph.name}: graph.meta.torch must be { names: {param: key}, numBatchesTracked: {node: key} } of strings`);
  const keys = [...Object.values(o.names), ...Object.values(o.numBatchesTracked)];
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new BasisError('INVALID_ARGUMENT', `${graph.name}: graph.meta.torch gives the key '${dup}' twice`);
  return { names: o.names, numBatchesTracked: o.numBatchesTracked };
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
  /**
   * `'torch'` (default): the names kept in `graph.meta.torch` by an import whose names were not
   * the graph's (see {@link withTorchNames}), so the file loads into the original PyTorch module
   * with `load_state_dict(..., strict=True)`; the graph's own names when there are none.
   * `'basis'`: always the graph's names.
   */
  names?: 'torch' | 'basis';
}

/**
 * The parameters of a zoo graph as a PyTorch state_dict (name -> array, in the graph's parameter
 * order, which is PyTorch's module order), ready for `writeTorch`/`writeTorchFile` (loads with
 * `model.load_state_dict(torch.load(path))`, strict) or `writeSafetensors`. Batchnorm layers get
 * the int64 `num_batches_tracked` buffer PyTorch expects. A graph imported from a file with
 * other names ({@link mapStateDict} + {@link withTorchNames}) is written under the file's names,
 * so it loads into the original module with `strict=True` (`names: 'basis'` writes the graph's). Values are copied; names and shapes are
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
  const namesOpt = opts.names ?? 'torch';
  if (namesOpt !== 'torch' && namesOpt !== 'basis') throw new BasisError('INVALID_ARGUMENT', `names must be 'torch' or 'basis', got ${String(namesOpt)}`);
  const torch = namesOpt === 'torch' ? torchNamesOf(graph) : null;
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
    if (nbt !== false && ops.get(p.node) === 'batchnorm' && p.name === `${p.node}.running_var` && (torch === null || torch.numBatchesTracked[p.node] !== undefined)) {
      out.set(`${p.node}.num_batches_tracked`, { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(nbt)) });
    }
  }
  const res = attention === 'mha' ? toMha(graph, out) : out;
  if (torch === null) return res;
  const renamed = new Map<string, NdArray>();
  for (const [k, v] of res) {
    const counter = k.endsWith('.num_batches_tracked') ? torch.numBatchesTracked[k.slice(0, -'.num_batches_tracked'.length)] : undefined;
    renamed.set(counter ?? torch.names[k] ?? k, v);
  }
  if (renamed.size !== res.size) throw new BasisError('INVALID_ARGUMENT', `${graph.name}: graph.meta.torch maps two parameters to one key`);
  return renamed;
}
