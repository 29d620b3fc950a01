import { BasisError } from '@basis/tensor';

/** Activation functions a graph can use (ids of `@basis/symmetry`'s registry). */
export type ActivationFn = 'relu' | 'leaky_relu' | 'sigmoid' | 'tanh' | 'gelu' | 'silu' | 'softplus' | 'identity' | 'rbf' | 'polynomial';

/** Every activation id, for validation. */
export const ACTIVATION_FNS: readonly ActivationFn[] = ['relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'softplus', 'identity', 'rbf', 'polynomial'];

/**
 * One node of the model graph IR. Every node has a unique `name`, which prefixes its parameters
 * (PyTorch style: `layers.0.weight`) and names its output as a capture point.
 * - `dense`: `y = x Wᵀ + b`, weight `[units, in]`, bias `[units]`.
 * - `conv2d`: weight `[filters, in, k, k]` (PyTorch OIHW), bias `[filters]`; padding `'same'` (stride 1), `'valid'` or a number.
 * - `batchnorm`: over the channel/feature axis; `weight` (γ), `bias` (β), buffers `running_mean`, `running_var`.
 * - `layernorm`: over the feature axis of vectors; `weight`, `bias`.
 * - `activation`: elementwise σ (`slope` for leaky_relu, `degree` for polynomial).
 * - `maxpool` / `avgpool` (`size` x `size` windows, `stride` default `size`; maxpool may pad each side by `padding`, which never wins the max, as `nn.MaxPool2d(3, 2, 1)`),
 *   `globalavgpool` (spatial mean), `flatten` (channel-major `C*H*W`, as PyTorch).
 * - `residual`: `y = body(x) + shortcut(x)`, the shortcut is the identity unless given (e.g. a 1x1 conv).
 * - `transform`: `y = x Tᵀ` on the unit axis with a square `weight` `[units, units]` (identity-initialised):
 *   the auxiliary layer for inserting a group element or a stitching map before or after a nonlinearity.
 * Sequence models (graphs with `tokens`; features `[T, d]`, the unit axis last):
 * - `embedding`: token ids to vectors, `weight` `[vocab, dim]`; must be the first node.
 * - `positional`: adds a learned `weight` `[T, d]`.
 * - `attention`: multi-head self-attention with `q`, `k`, `v`, `o` projections (`{name}.q.weight` `[d, d]`, biases `[d]`), `heads` dividing d, optional causal mask.
 * - `token`: selects position `index` (negative counts from the end): `[T, d]` to `[d]`.
 * `dense`, `layernorm`, `activation` act on the last axis of sequences; `globalavgpool` averages over positions.
 */
export type GraphNode =
  | { readonly op: 'dense'; readonly name: string; readonly units: number; readonly bias?: boolean }
  | {
      readonly op: 'conv2d';
      readonly name: string;
      readonly filters: number;
      readonly kernel: number;
      readonly stride?: number;
      readonly padding?: 'same' | 'valid' | number;
      readonly bias?: boolean;
    }
  | { readonly op: 'batchnorm'; readonly name: string; readonly eps?: number; readonly momentum?: number }
  | { readonly op: 'layernorm'; readonly name: string; readonly eps?: number }
  | { readonly op: 'activation'; readonly name: string; readonly fn: ActivationFn; readonly slope?: number; readonly degree?: number }
  | { readonly op: 'maxpool'; readonly name: string; readonly size: number; readonly stride?: number; readonly padding?: number }
  | { readonly op: 'avgpool'; readonly name: string; readonly size: number; readonly stride?: number }
  | { readonly op: 'globalavgpool'; readonly name: string }
  | { readonly op: 'flatten'; readonly name: string }
  | { readonly op: 'residual'; readonly name: string; readonly body: readonly GraphNode[]; readonly shortcut?: readonly GraphNode[] }
  | { readonly op: 'transform'; readonly name: string }
  | { readonly op: 'embedding'; readonly name: string; readonly dim: number }
  | { readonly op: 'positional'; readonly name: string }
  | { readonly op: 'attention'; readonly name: string; readonly heads: number; readonly causal?: boolean }
  | { readonly op: 'token'; readonly name: string; readonly index: number };

/**
 * A model graph: the input shape (per example; `[d]` for vectors, `[C, H, W]` for images, PyTorch
 * layout) and a sequence of nodes. Serialisable as JSON; the model's parameters live beside it
 * in a flat dictionary of named tensors.
 *
 * @example
 * ```ts
 * const g: ModelGraph = {
 *   format: 'basis.model', version: 1, name: 'mlp-32', input: [784],
 *   nodes: [
 *     { op: 'dense', name: 'layers.0', units: 32 }, { op: 'activation', name: 'layers.1', fn: 'relu' },
 *     { op: 'dense', name: 'layers.2', units: 10 },
 *   ],
 * };
 * ```
 */
export interface ModelGraph {
  readonly format: 'basis.model';
  readonly version: 1;
  /** Display name (architecture and sizes). */
  readonly name: string;
  /** Per-example input shape. */
  readonly input: readonly number[];
  readonly nodes: readonly GraphNode[];
  /** For sequence models: the input is `[T]` integer token ids in `0..vocab-1`. */
  readonly tokens?: { readonly vocab: number };
  /** Free-form description of how it was built (architecture id and options). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Shape and role of one parameter or buffer. */
export interface ParamInfo {
  readonly name: string;
  /** Shape in PyTorch layout. */
  readonly shape: readonly number[];
  /** Trainable parameter (true) or buffer such as batchnorm running statistics (false). */
  readonly trainable: boolean;
  /** Node that owns it. */
  readonly node: string;
}

/** What shape inference knows about each node's output. */
export interface NodeInfo {
  readonly name: string;
  readonly op: GraphNode['op'];
  /** Output shape per example (`[d]` or `[C, H, W]`). */
  readonly shape: readonly number[];
  /** Path of enclosing residual blocks (empty at top level). */
  readonly scope: readonly string[];
  /** True for top-level nodes: the graph can be cut after them (partial passes f≤l, f>l). */
  readonly cut: boolean;
}

/** Result of {@link describeGraph}. */
export interface GraphDescription {
  readonly params: readonly ParamInfo[];
  readonly nodes: readonly NodeInfo[];
  readonly output: readonly number[];
  /** Number of trainable scalars. */
  readonly parameterCount: number;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function bad(path: string, msg: string): never {
  throw new BasisError('CONFIG_INVALID', `${path}: ${msg}`, { details: { path } });
}

function posInt(v: unknown, path: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) bad(path, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * Validates a graph and infers every node's output shape and every parameter's shape
 * (CONFIG_INVALID naming the path of the bad field, e.g. `nodes[3].units`).
 *
 * @example
 * ```ts
 * const d = describeGraph(mlp({ width: 32, depth: 2 }));
 * d.params.map((p) => `${p.name} ${p.shape}`); // ['layers.0.weight 32,784', ...]
 * ```
 */
export function describeGraph(graph: ModelGraph): GraphDescription {
  if (graph === null || typeof graph !== 'object') bad('graph', 'must be an object { format, version, input, nodes }');
  if (graph.format !== 'basis.model') bad('graph.format', `must be 'basis.model', got ${JSON.stringify(graph.format)}`);
  if (graph.version !== 1) bad('graph.version', `must be 1, got ${JSON.stringify(graph.version)}`);
  if (typeof graph.name !== 'string') bad('graph.name', `must be a string, got ${Array.isArray(graph.name) ? 'an array' : typeof graph.name}`);
  if (!Array.isArray(graph.input) || (graph.input.length !== 1 && graph.input.length !== 3)) {
    bad('graph.input', `must be [d] or [C, H, W], got ${JSON.stringify(graph.input)}`);
  }
  graph.input.forEach((d, i) => posInt(d, `graph.input[${i}]`));
  const vocab = graph.tokens === undefined ? undefined : posInt(graph.tokens.vocab, 'graph.tokens.vocab');
  if (vocab !== undefined && graph.input.length !== 1) bad('graph.input', 'a token model takes [T] token ids');
  if (!Array.isArray(graph.nodes) || graph.nodes.length === 0) bad('graph.nodes', 'must be a non-empty array');
  const params: ParamInfo[] = [];
  const nodes: NodeInfo[] = [];
  const names = new Set<string>();
  const walk = (list: readonly GraphNode[], shape: readonly number[], path: string, scope: string[]): readonly number[] => {
    let s = shape;
    list.forEach((node, i) => {
      const p = `${path}[${i}]`;
      if (node === null || typeof node !== 'object') bad(p, 'must be a node object');
      if (typeof node.name !== 'string' || !NAME_RE.test(node.name)) bad(`${p}.name`, `must be a name like 'layers.0', got ${JSON.stringify(node.name)}`);
      if (names.has(node.name)) bad(`${p}.name`, `'${node.name}' is used twice; node names must be unique`);
      names.add(node.name);
      const param = (suffix: string, shp: number[], trainable = true): void => {
        params.push({ name: `${node.name}.${suffix}`, shape: shp, trainable, node: node.name });
      };
      switch (node.op) {
        case 'dense': {
          if (s.length !== 1 && !(seq && s.length === 2)) bad(p, `dense needs a vector input, got shape [${s.join(', ')}]; add a flatten or globalavgpool node first`);
          const u = posInt(node.units, `${p}.units`);
          param('weight', [u, s[s.length - 1] as number]);
          if (node.bias !== false) param('bias', [u]);
          s = s.length === 2 ? [s[0] as number, u] : [u];
          break;
        }
        case 'embedding': {
          if (vocab === undefined) bad(p, 'embedding needs a token model (graph.tokens = { vocab })');
          if (i !== 0 || path !== 'graph.nodes') bad(p, 'embedding must be the first node');
          const dim = posInt(node.dim, `${p}.dim`);
          param('weight', [vocab, dim]);
          s = [s[0] as number, dim];
          break;
        }
        case 'positional':
          if (s.length !== 2) bad(p, `positional needs a sequence [T, d], got [${s.join(', ')}]`);
          param('weight', [s[0] as number, s[1] as number]);
          break;
        case 'attention': {
          if (s.length !== 2) bad(p, `attention needs a sequence [T, d], got [${s.join(', ')}]`);
          const d = s[1] as number;
          const h = posInt(node.heads, `${p}.heads`);
          if (d % h !== 0) bad(`${p}.heads`, `${h} heads do not divide the width ${d}`);
          for (const m of ['q', 'k', 'v', 'o']) {
            param(`${m}.weight`, [d, d]);
            param(`${m}.bias`, [d]);
          }
          break;
        }
        case 'token': {
          if (s.length !== 2) bad(p, `token needs a sequence [T, d], got [${s.join(', ')}]`);
          const T = s[0] as number;
          if (!Number.isInteger(node.index) || node.index >= T || node.index < -T) bad(`${p}.index`, `must be an integer in ${-T}..${T - 1}, got ${JSON.stringify(node.index)}`);
          s = [s[1] as number];
          break;
        }
        case 'conv2d': {
          if (s.length !== 3) bad(p, `conv2d needs a [C, H, W] input, got [${s.join(', ')}]`);
          const [c, h, w] = s as [number, number, number];
          const f = posInt(node.filters, `${p}.filters`);
          const k = posInt(node.kernel, `${p}.kernel`);
          const st = node.stride === undefined ? 1 : posInt(node.stride, `${p}.stride`);
          const pad = node.padding ?? 'same';
          let padN: number;
          if (pad === 'same') {
            if (st !== 1 || k % 2 === 0) bad(`${p}.padding`, "'same' padding needs stride 1 and an odd kernel; give a number instead");
            padN = (k - 1) / 2;
          } else if (pad === 'valid') padN = 0;
          else if (Number.isInteger(pad) && pad >= 0) padN = pad;
          else bad(`${p}.padding`, `must be 'same', 'valid' or a non-negative integer, got ${JSON.stringify(pad)}`);
          const ho = Math.floor((h + 2 * padN - k) / st) + 1;
          const wo = Math.floor((w + 2 * padN - k) / st) + 1;
          if (ho < 1 || wo < 1) bad(p, `a ${k}x${k} kernel does not fit a ${h}x${w} input`);
          param('weight', [f, c, k, k]);
          if (node.bias !== false) param('bias', [f]);
          s = [f, ho, wo];
          break;
        }
        case 'batchnorm': {
          if (s.length === 2) bad(p, 'batchnorm over sequences is not supported; use layernorm');
          const c = s[0] as number;
          if (node.eps !== undefined && !(node.eps > 0)) bad(`${p}.eps`, `must be > 0, got ${node.eps}`);
          if (node.momentum !== undefined && !(node.momentum > 0 && node.momentum <= 1)) bad(`${p}.momentum`, `must be in (0, 1], got ${node.momentum}`);
          param('weight', [c]);
          param('bias', [c]);
          param('running_mean', [c], false);
          param('running_var', [c], false);
          break;
        }
        case 'layernorm': {
          if (s.length === 3) bad(p, `layernorm normalises vectors or sequences; got shape [${s.join(', ')}]`);
          if (node.eps !== undefined && !(node.eps > 0)) bad(`${p}.eps`, `must be > 0, got ${node.eps}`);
          param('weight', [s[s.length - 1] as number]);
          param('bias', [s[s.length - 1] as number]);
          break;
        }
        case 'activation': {
          if (!ACTIVATION_FNS.includes(node.fn)) bad(`${p}.fn`, `unknown activation ${JSON.stringify(node.fn)}; use one of ${ACTIVATION_FNS.join(', ')}`);
          if (node.fn === 'leaky_relu' && node.slope !== undefined && !(Number.isFinite(node.slope) && node.slope >= 0)) bad(`${p}.slope`, `must be a finite number >= 0, got ${node.slope}`);
          if (node.fn === 'polynomial' && node.degree !== undefined && !(Number.isInteger(node.degree) && node.degree >= 1)) bad(`${p}.degree`, `must be an integer >= 1, got ${node.degree}`);
          break;
        }
        case 'maxpool':
        case 'avgpool': {
          if (s.length !== 3) bad(p, `${node.op} needs a [C, H, W] input, got [${s.join(', ')}]`);
          const k = posInt(node.size, `${p}.size`);
          const st = node.stride === undefined ? k : posInt(node.stride, `${p}.stride`);
          const pad = node.op === 'maxpool' ? (node.padding ?? 0) : 0;
          if (node.op === 'avgpool' && (node as { padding?: unknown }).padding !== undefined) bad(`${p}.padding`, 'avgpool takes no padding (only maxpool pads)');
          if (!Number.isInteger(pad) || pad < 0 || 2 * pad > k) bad(`${p}.padding`, `must be an integer in 0..${Math.floor(k / 2)} (at most half the window), got ${JSON.stringify(pad)}`);
          const [c, h, w] = s as [number, number, number];
          if (h + 2 * pad < k || w + 2 * pad < k) bad(p, `pool size ${k} does not fit a ${h}x${w} input`);
          s = [c, Math.floor((h + 2 * pad - k) / st) + 1, Math.floor((w + 2 * pad - k) / st) + 1];
          break;
        }
        case 'globalavgpool':
          if (s.length === 2) s = [s[1] as number];
          else if (s.length !== 3) bad(p, `globalavgpool needs a [C, H, W] or [T, d] input, got [${s.join(', ')}]`);
          else s = [s[0] as number];
          break;
        case 'flatten':
          s = [s.reduce((a, b) => a * b, 1)];
          break;
        case 'transform': {
          const u = (s.length === 2 ? s[1] : s[0]) as number;
          param('weight', [u, u]);
          break;
        }
        case 'residual': {
          if (!Array.isArray(node.body) || node.body.length === 0) bad(`${p}.body`, 'must be a non-empty array of nodes');
          const inner = [...scope, node.name];
          const out = walk(node.body, s, `${p}.body`, inner);
          const sc = node.shortcut === undefined || node.shortcut.length === 0 ? s : walk(node.shortcut, s, `${p}.shortcut`, inner);
          if (out.length !== sc.length || out.some((d, j) => d !== sc[j])) {
            bad(p, `the body gives shape [${out.join(', ')}] but the shortcut gives [${sc.join(', ')}]; add a projection shortcut`);
          }
          s = out;
          break;
        }
        default:
          bad(`${p}.op`, `unknown op ${JSON.stringify((node as { op: unknown }).op)}`);
      }
      nodes.push({ name: node.name, op: node.op, shape: s, scope: [...scope], cut: scope.length === 0 });
    });
    return s;
  };
  const seq = vocab !== undefined;
  if (seq && (graph.nodes[0] as GraphNode | undefined)?.op !== 'embedding') bad('graph.nodes[0]', 'a token model must start with an embedding node');
  const output = walk(graph.nodes, graph.input, 'graph.nodes', []);
  let count = 0;
  for (const p of params) if (p.trainable) count += p.shape.reduce((a, b) => a * b, 1);
  return { params, nodes, output, parameterCount: count };
}

/** The top-level node index of a cut given by name or index (INVALID_ARGUMENT if it is not a cut). */
export function cutIndex(graph: ModelGraph, cut: string | number): number {
  if (typeof cut === 'number') {
    if (!Number.isInteger(cut) || cut < 0 || cut >= graph.nodes.length) {
      throw new BasisError('INVALID_ARGUMENT', `cut index ${cut} is not a top-level node index (0..${graph.nodes.length - 1})`);
    }
    return cut;
  }
  const i = graph.nodes.findIndex((n) => n.name === cut);
  if (i < 0) {
    throw new BasisError(
      'INVALID_ARGUMENT',
      `'${cut}' is not a top-level node of ${graph.name}, so it is not a cut of the computation graph (nodes inside residual blocks are bypassed by the skip path); cuts: ${graph.nodes.map((n) => n.name).join(', ')}`,
    );
  }
  return i;
}
