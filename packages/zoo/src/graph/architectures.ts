import { BasisError } from '@basis/tensor';
import { describeGraph, type ActivationFn, type GraphNode, type ModelGraph } from './ir.js';

/** An activation with its parameters, as architectures take it. */
export interface ActivationSpec {
  fn: ActivationFn;
  slope?: number;
  degree?: number;
}

function act(name: string, a: ActivationFn | ActivationSpec): GraphNode {
  const s = typeof a === 'string' ? { fn: a } : a;
  return { op: 'activation', name, fn: s.fn, ...(s.slope === undefined ? {} : { slope: s.slope }), ...(s.degree === undefined ? {} : { degree: s.degree }) };
}

function posInt(v: unknown, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new BasisError('CONFIG_INVALID', `${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function finish(graph: ModelGraph): ModelGraph {
  describeGraph(graph); // validates
  return graph;
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Hidden width (one number for every hidden layer, or one per layer). */
  width: number | readonly number[];
  /** Number of hidden layers (default 2; ignored when `width` is an array). */
  depth?: number;
  /** Hidden activation (default `'relu'`). */
  activation?: ActivationFn | ActivationSpec;
  /** Input size (default 784). */
  inputDim?: number;
  /** Output size (default 10). */
  classes?: number;
}

/**
 * `MLP(w, depth, act)` (seeds-spec 2.0): `in → w × depth → classes`, PyTorch `nn.Sequential`
 * names (`layers.0` dense, `layers.1` activation, ...).
 *
 * @example
 * ```ts
 * const g = mlp({ width: 512, depth: 2 });            // 784-512-512-10, ReLU
 * const t = mlp({ width: 64, depth: 3, activation: { fn: 'leaky_relu', slope: 0.1 } });
 * ```
 */
export function mlp(opts: MlpOptions): ModelGraph {
  const widths = Array.isArray(opts.width)
    ? (opts.width as number[]).map((w, i) => posInt(w, `width[${i}]`))
    : new Array<number>(posInt(opts.depth ?? 2, 'depth')).fill(posInt(opts.width, 'width'));
  if (widths.length === 0) throw new BasisError('CONFIG_INVALID', 'mlp needs at least one hidden layer');
  const a = opts.activation ?? 'relu';
  const nodes: GraphNode[] = [];
  let k = 0;
  for (const w of widths) {
    nodes.push({ op: 'dense', name: `layers.${k++}`, units: w });
    nodes.push(act(`layers.${k++}`, a));
  }
  nodes.push({ op: 'dense', name: `layers.${k}`, units: posInt(opts.classes ?? 10, 'classes') });
  const fn = typeof a === 'string' ? a : a.fn;
  return finish({
    format: 'basis.model',
    version: 1,
    name: `mlp-${widths.join('x')}-${fn}`,
    input: [posInt(opts.inputDim ?? 784, 'inputDim')],
    nodes,
    meta: { architecture: 'mlp', ...opts },
  });
}

/** Options of {@link resmlp}. */
export interface ResMlpOptions {
  /** Width of the residual stream. */
  width: number;
  /** Number of residual blocks (default 2). */
  blocks?: number;
  /** Width inside each block (default `width`). */
  hidden?: number;
  activation?: ActivationFn | ActivationSpec;
  /** Apply the activation after each sum, `x ← σ(x + W2 σ(W1 x))` (default true). */
  postActivation?: boolean;
  inputDim?: number;
  classes?: number;
}

/**
 * `ResMLP(w, blocks)` (seeds-spec 2.0): `in` (dense + σ), blocks `x + W2 σ(W1 x)` (optionally
 * followed by σ), and a linear head. Block internals are not cuts of the graph (S003 Remark 3.6).
 *
 * @example
 * ```ts
 * const g = resmlp({ width: 128, blocks: 3 });
 * ```
 */
export function resmlp(opts: ResMlpOptions): ModelGraph {
  const w = posInt(opts.width, 'width');
  const blocks = posInt(opts.blocks ?? 2, 'blocks');
  const h = posInt(opts.hidden ?? w, 'hidden');
  const a = opts.activation ?? 'relu';
  const nodes: GraphNode[] = [
    { op: 'dense', name: 'in', units: w },
    act('in.act', a),
  ];
  for (let b = 0; b < blocks; b++) {
    nodes.push({
      op: 'residual',
      name: `blocks.${b}`,
      body: [{ op: 'dense', name: `blocks.${b}.fc1`, units: h }, act(`blocks.${b}.act`, a), { op: 'dense', name: `blocks.${b}.fc2`, units: w }],
    });
    if (opts.postActivation ?? true) nodes.push(act(`blocks.${b}.out`, a));
  }
  nodes.push({ op: 'dense', name: 'head', units: posInt(opts.classes ?? 10, 'classes') });
  const fn = typeof a === 'string' ? a : a.fn;
  return finish({
    format: 'basis.model',
    version: 1,
    name: `resmlp-${w}x${blocks}-${fn}`,
    input: [posInt(opts.inputDim ?? 784, 'inputDim')],
    nodes,
    meta: { architecture: 'resmlp', ...opts },
  });
}

/** Options of the CNNs. */
export interface CnnOptions {
  /** Input `[C, H, W]` (default `[1, 28, 28]`). */
  input?: readonly [number, number, number];
  classes?: number;
  activation?: ActivationFn | ActivationSpec;
}

/**
 * `MiniMyrtle(c)` (seeds-spec 2.0, an analogue of the 5-layer Myrtle CNN of S003):
 * conv3x3(c)-BN-σ, [conv3x3(2c)-BN-σ-maxpool2] × 2, global average pooling, linear.
 *
 * @example
 * ```ts
 * const g = miniMyrtle(16); // about 12k parameters on 28x28 inputs
 * ```
 */
export function miniMyrtle(c: number, opts: CnnOptions = {}): ModelGraph {
  const ch = posInt(c, 'c');
  const a = opts.activation ?? 'relu';
  const input = opts.input ?? [1, 28, 28];
  const nodes: GraphNode[] = [];
  let k = 0;
  const block = (filters: number, pool: boolean): void => {
    nodes.push({ op: 'conv2d', name: `layers.${k++}`, filters, kernel: 3 });
    nodes.push({ op: 'batchnorm', name: `layers.${k++}` });
    nodes.push(act(`layers.${k++}`, a));
    if (pool) nodes.push({ op: 'maxpool', name: `layers.${k++}`, size: 2 });
  };
  block(ch, false);
  block(2 * ch, true);
  block(2 * ch, true);
  nodes.push({ op: 'globalavgpool', name: `layers.${k++}` });
  nodes.push({ op: 'dense', name: `layers.${k}`, units: posInt(opts.classes ?? 10, 'classes') });
  return finish({ format: 'basis.model', version: 1, name: `minimyrtle-${ch}`, input: [...input], nodes, meta: { architecture: 'minimyrtle', c: ch, ...opts } });
}

/** Options of {@link cnn}. */
export interface ConvNetOptions extends CnnOptions {
  /** Channels of each conv block, e.g. `[32, 64]` (one number: one block). */
  widths: number | readonly number[];
}

/**
 * A plain CNN, the shape of many small PyTorch vision models: per width w, conv3x3(w, padding 1,
 * with bias)-BN-σ-maxpool2, then flatten and a linear head. Nodes are `layers.0`, `layers.1`, ...
 * (PyTorch's `nn.Sequential` names; a model saved with other names maps onto it by structure).
 *
 * @example
 * ```ts
 * const g = cnn({ widths: [32, 64] }); // 1x28x28 -> 32x14x14 -> 64x7x7 -> 3136 -> 10
 * ```
 */
export function cnn(opts: ConvNetOptions): ModelGraph {
  const widths = (typeof opts.widths === 'number' ? [opts.widths] : [...opts.widths]).map((w, i) => posInt(w, `widths[${i}]`));
  if (widths.length === 0) throw new BasisError('CONFIG_INVALID', 'cnn needs at least one width');
  const a = opts.activation ?? 'relu';
  const input = opts.input ?? [1, 28, 28];
  const nodes: GraphNode[] = [];
  let k = 0;
  for (const w of widths) {
    nodes.push({ op: 'conv2d', name: `layers.${k++}`, filters: w, kernel: 3, padding: 1 });
    nodes.push({ op: 'batchnorm', name: `layers.${k++}` });
    nodes.push(act(`layers.${k++}`, a));
    nodes.push({ op: 'maxpool', name: `layers.${k++}`, size: 2 });
  }
  nodes.push({ op: 'flatten', name: `layers.${k++}` });
  nodes.push({ op: 'dense', name: `layers.${k}`, units: posInt(opts.classes ?? 10, 'classes') });
  return finish({ format: 'basis.model', version: 1, name: `cnn-${widths.join('x')}`, input: [...input], nodes, meta: { architecture: 'cnn', ...opts, widths } });
}

/** Options of {@link resnet}. */
export interface ResNetOptions extends CnnOptions {
  /** Width multiplier k: stage widths 16k, 32k, 64k (default 1). */
  widthMultiplier?: number;
  /** Stage widths, e.g. `[8, 16]` (one stage per width; overrides `widthMultiplier`). */
  widths?: readonly number[];
  /** Residual blocks per stage (default 3: ResNet-20). */
  blocksPerStage?: number;
}

/**
 * A small ResNet-20-style CNN (He et al. 2016, CIFAR variant): conv3x3(16k)-BN-σ, three stages
 * of `blocksPerStage` basic blocks (conv-BN-σ-conv-BN plus identity or 1x1-conv-BN projection
 * shortcut, σ after the sum), widths 16k/32k/64k with stride-2 downsampling, global average
 * pooling, linear. `widths` gives other stage widths (and their number): `[8, 16]` is a stem of
 * 8 channels, a stage at 8 and a stride-2 stage at 16. Names are torchvision's (`conv1`, `bn1`,
 * `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`).
 *
 * @example
 * ```ts
 * const g = resnet({ widthMultiplier: 1, blocksPerStage: 3, input: [1, 28, 28] }); // ResNet-20
 * const small = resnet({ widths: [8, 16], blocksPerStage: 1 });
 * ```
 */
export function resnet(opts: ResNetOptions = {}): ModelGraph {
  const k = posInt(opts.widthMultiplier ?? 1, 'widthMultiplier');
  const n = posInt(opts.blocksPerStage ?? 3, 'blocksPerStage');
  const a = opts.activation ?? 'relu';
  const input = opts.input ?? [1, 28, 28];
  if (opts.widths !== undefined && (!Array.isArray(opts.widths) || opts.widths.length === 0)) throw new BasisError('CONFIG_INVALID', `widths must list at least one stage width, got ${JSON.stringify(opts.widths)}`);
  const stages = opts.widths === undefined ? [16 * k, 32 * k, 64 * k] : opts.widths.map((w, i) => posInt(w, `widths[${i}]`));
  const nodes: GraphNode[] = [
    { op: 'conv2d', name: 'conv1', filters: stages[0] as number, kernel: 3 },
    { op: 'batchnorm', name: 'bn1' },
    act('relu1', a),
  ];
  let inCh = stages[0] as number;
  stages.forEach((w, s) => {
    for (let b = 0; b < n; b++) {
      const name = `layer${s + 1}.${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const project = stride !== 1 || inCh !== w;
      nodes.push({
        op: 'residual',
        name,
        body: [
          { op: 'conv2d', name: `${name}.conv1`, filters: w, kernel: 3, stride, padding: 1, bias: false },
          { op: 'batchnorm', name: `${name}.bn1` },
          act(`${name}.relu1`, a),
          { op: 'conv2d', name: `${name}.conv2`, filters: w, kernel: 3, padding: 1, bias: false },
          { op: 'batchnorm', name: `${name}.bn2` },
        ],
        ...(project
          ? {
              shortcut: [
                { op: 'conv2d', name: `${name}.downsample.0`, filters: w, kernel: 1, stride, padding: 0, bias: false },
                { op: 'batchnorm', name: `${name}.downsample.1` },
              ],
            }
          : {}),
      });
      nodes.push(act(`${name}.out`, a));
      inCh = w;
    }
  });
  nodes.push({ op: 'globalavgpool', name: 'avgpool' });
  nodes.push({ op: 'dense', name: 'fc', units: posInt(opts.classes ?? 10, 'classes') });
  const name = opts.widths === undefined ? `resnet${6 * n + 2}-x${k}` : `resnet${2 * n * stages.length + 2}-${stages.join('x')}`;
  return finish({ format: 'basis.model', version: 1, name, input: [...input], nodes, meta: { architecture: 'resnet', ...opts } });
}

/** Options of {@link transformer}. */
export interface TransformerOptions {
  /** Token vocabulary size. */
  vocab: number;
  /** Sequence length T. */
  seqLen: number;
  /** Residual stream width d (default 128). */
  dim?: number;
  /** Attention heads (default 4; must divide dim). */
  heads?: number;
  /** Hidden width of the MLP block (default 4·dim). */
  mlp?: number;
  /** Output classes (default vocab). */
  classes?: number;
  /** Number of layers (default 1). */
  layers?: number;
  /** Pre-layernorm blocks and a final layernorm (default false, as in the modular-addition models). */
  layernorm?: boolean;
  /** Causal attention mask (default false). */
  causal?: boolean;
  activation?: ActivationFn | ActivationSpec;
}

/**
 * A small transformer: token and learned positional embeddings, `layers` blocks of
 * `x + attn(x)` and `x + W2 σ(W1 x)` (optionally pre-layernormed), and a linear read-out of the
 * last position. The residual stream is one group tied across blocks; heads are permuted as blocks.
 *
 * @example
 * ```ts
 * const g = transformer({ vocab: 114, seqLen: 3, dim: 128, heads: 4, classes: 113 }); // a + b mod 113
 * ```
 */
export function transformer(opts: TransformerOptions): ModelGraph {
  const vocab = posInt(opts.vocab, 'vocab');
  const T = posInt(opts.seqLen, 'seqLen');
  const d = posInt(opts.dim ?? 128, 'dim');
  const h = posInt(opts.heads ?? 4, 'heads');
  if (d % h !== 0) throw new BasisError('CONFIG_INVALID', `heads (${h}) must divide dim (${d})`);
  const m = posInt(opts.mlp ?? 4 * d, 'mlp');
  const L = posInt(opts.layers ?? 1, 'layers');
  const a = opts.activation ?? 'relu';
  const ln = opts.layernorm ?? false;
  const nodes: GraphNode[] = [
    { op: 'embedding', name: 'embed', dim: d },
    { op: 'positional', name: 'pos' },
  ];
  for (let l = 0; l < L; l++) {
    const b = `blocks.${l}`;
    nodes.push({
      op: 'residual',
      name: `${b}.attn`,
      body: [...(ln ? [{ op: 'layernorm', name: `${b}.ln1` } as GraphNode] : []), { op: 'attention', name: `${b}.attn.mha`, heads: h, ...(opts.causal === true ? { causal: true } : {}) }],
    });
    nodes.push({
      op: 'residual',
      name: `${b}.mlp`,
      body: [
        ...(ln ? [{ op: 'layernorm', name: `${b}.ln2` } as GraphNode] : []),
        { op: 'dense', name: `${b}.mlp.fc1`, units: m },
        act(`${b}.mlp.act`, a),
        { op: 'dense', name: `${b}.mlp.fc2`, units: d },
      ],
    });
  }
  if (ln) nodes.push({ op: 'layernorm', name: 'ln_f' });
  nodes.push({ op: 'token', name: 'last', index: -1 });
  nodes.push({ op: 'dense', name: 'unembed', units: posInt(opts.classes ?? vocab, 'classes') });
  return finish({ format: 'basis.model', version: 1, name: `transformer-${L}x${d}h${h}`, input: [T], tokens: { vocab }, nodes, meta: { architecture: 'transformer', ...opts } });
}
