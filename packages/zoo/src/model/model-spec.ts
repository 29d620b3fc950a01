// Model specifications as data: `{ arch: 'mlp', width: 512, depth: 2 }` -> a model graph. The one
// place where the CLI flags (--arch, --width, --depth), config files and recipes meet the
// architecture builders.
import { ACTIVATION_FNS, cnn, miniMyrtle, mlp, resmlp, resnet, transformer, type ActivationFn, type ModelGraph } from '../graph/index.js';
import * as v from 'valibot';
import { at, boolean, finite, integer, list, object, oneOf, optional, parseConfig, type Schema } from '@basis/tensor';
import { checkInt, invalid, isList, show } from '../train/validate.js';

/**
 * Architecture ids understood by {@link buildModel}.
 *
 * @example
 * ```ts
 * MODEL_ARCHS.includes('minimyrtle'); // true
 * ```
 */
export const MODEL_ARCHS = ['mlp', 'resmlp', 'minimyrtle', 'resnet', 'cnn', 'transformer'] as const;

/**
 * An architecture id: `mlp`, `resmlp`, `minimyrtle`, `resnet`, `cnn` or `transformer`.
 *
 * @example
 * ```ts
 * const arch: ModelArch = 'resnet';
 * ```
 */
export type ModelArch = (typeof MODEL_ARCHS)[number];

/**
 * A model as plain JSON. `width` and `depth` mean, per architecture (a list of widths is
 * accepted where marked):
 * - `mlp`: hidden width, or a list with one width per hidden layer (`[64, 32]`), and number of
 *   hidden layers (default 512 x 2; `depth` is implied by a list);
 * - `resmlp`: residual-stream width and number of blocks (default 128 x 2; `hidden` the block width);
 * - `minimyrtle`: base channel count c (default 16; `depth` is not used);
 * - `resnet`: width multiplier k (stage widths 16k/32k/64k), or a list of stage widths (`[8, 16]`:
 *   two stages), and blocks per stage (default 1 x 3, ResNet-20);
 * - `cnn`: a list of channel widths, one conv3x3-BN-σ-maxpool2 block each, then flatten and a
 *   linear head (default `[32, 64]`; `depth` is not used);
 * - `transformer`: model width d and number of layers (default 128 x 1; needs `vocab` and `seqLen`).
 * Input shape and class count come from the dataset (see {@link buildModel}).
 *
 * @example
 * ```ts
 * const spec: ModelSpec = { arch: 'mlp', width: 512, depth: 2, activation: 'relu' };
 * const myrtle: ModelSpec = { arch: 'minimyrtle', width: 16 };
 * const unequal: ModelSpec = { arch: 'mlp', width: [64, 32] };
 * const res: ModelSpec = { arch: 'resnet', width: [8, 16], depth: 1 };
 * ```
 */
export interface ModelSpec {
  arch: ModelArch;
  width?: number | readonly number[];
  depth?: number;
  /** Hidden activation (default relu). */
  activation?: ActivationFn;
  /** Negative slope of leaky_relu. */
  slope?: number;
  /** resmlp: width inside the blocks (default `width`). */
  hidden?: number;
  /** transformer: attention heads (default 4). */
  heads?: number;
  /** transformer: vocabulary size. */
  vocab?: number;
  /** transformer: sequence length. */
  seqLen?: number;
  /** transformer: pre-layernorm blocks (default false). */
  layernorm?: boolean;
}

/**
 * The data-dependent part of a model: per-example input shape and number of classes.
 *
 * @example
 * ```ts
 * const io: ModelIo = { input: [1, 28, 28], classes: 10 };
 * ```
 */
export interface ModelIo {
  input: readonly number[];
  classes: number;
}

/**
 * Architectures whose `width` may be a list (mlp: hidden layers; resnet: stages; cnn: conv blocks).
 *
 * @example
 * ```ts
 * WIDTH_LIST_ARCHS.includes('mlp'); // true
 * ```
 */
export const WIDTH_LIST_ARCHS = ['mlp', 'resnet', 'cnn'] as const;

/**
 * The schema of a {@link ModelSpec} (valibot; see `parseConfig`): field types and ranges, and a
 * list of widths only for the architectures of {@link WIDTH_LIST_ARCHS}. Architecture-specific
 * needs that depend on the data (image input, a transformer's vocabulary) are checked by
 * {@link buildModel}.
 *
 * @example
 * ```ts
 * const spec = parseConfig(ModelSpecSchema, { arch: 'mlp', width: [64, 32] }, 'model');
 * ```
 */
export const ModelSpecSchema: Schema<ModelSpec> = v.pipe(
  object({
    arch: oneOf(MODEL_ARCHS),
    width: optional(
      v.union([integer(1), list(integer(1), 'hidden widths', { min: 1, emptyMessage: 'must list at least one hidden width' })], (i) => `must be a positive integer or a list of them, got ${show(i.input)}`),
    ),
    depth: optional(integer(1)),
    activation: optional(oneOf(ACTIVATION_FNS)),
    slope: optional(finite({ ge: 0 })),
    hidden: optional(integer(1)),
    heads: optional(integer(1)),
    vocab: optional(integer(2)),
    seqLen: optional(integer(1)),
    layernorm: optional(boolean()),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const o = dataset.value;
    if (Array.isArray(o.width) && !(WIDTH_LIST_ARCHS as readonly string[]).includes(o.arch)) {
      addIssue({ message: `may be a list of widths only for ${WIDTH_LIST_ARCHS.join(', ')}; ${o.arch} takes one number, got ${show(o.width)}`, path: [at(o, 'width')] });
    }
  }),
) as Schema<ModelSpec>;

/**
 * Parses a model spec (CONFIG_INVALID naming the field, e.g. `config.model.width[1]`) into a
 * frozen {@link ModelSpec}; a value this function returned is trusted as it is.
 *
 * @example
 * ```ts
 * const spec = parseModelSpec(JSON.parse(text).model, 'config.model');
 * ```
 */
export function parseModelSpec(v: unknown, field = 'model'): ModelSpec {
  return parseConfig(ModelSpecSchema, v, field);
}

function rewrap<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'CONFIG_INVALID') invalid(field, `is not a valid model: ${err.message ?? String(e)}`);
    throw e;
  }
}

/**
 * Builds the graph of a model spec for data of the given shape and class count (the spec is
 * validated first; CONFIG_INVALID names the bad field). The spec is recorded in `graph.meta.spec`.
 *
 * @example
 * ```ts
 * const g = buildModel({ arch: 'mlp', width: 512, depth: 2 }, { input: [1, 28, 28], classes: 10 }); // 784-512-512-10
 * const c = buildModel({ arch: 'minimyrtle', width: 16 }, { input: [1, 28, 28], classes: 10 });
 * ```
 */
export function buildModel(spec: ModelSpec, io: ModelIo, field = 'model'): ModelGraph {
  const s = parseModelSpec(spec, field);
  if (!isList(io.input) || io.input.length === 0) invalid(`${field}: input`, `must be a shape, got ${show(io.input)}`);
  const classes = checkInt(io.classes, `${field}: classes`, 2);
  const activation = s.activation === undefined ? undefined : s.slope === undefined ? s.activation : { fn: s.activation, slope: s.slope };
  const act = activation === undefined ? {} : { activation };
  const size = io.input.reduce((a, b) => a * b, 1);
  const image = (): [number, number, number] => {
    if (io.input.length !== 3) invalid(`${field}.arch`, `${s.arch} needs image data [C, H, W], but the data has shape [${io.input.join(', ')}]`);
    return [...io.input] as [number, number, number];
  };
  const depthUnused = (): void => {
    if (s.depth !== undefined) invalid(`${field}.depth`, `is not used by ${s.arch}; leave it out`);
  };
  const graph = rewrap(field, (): ModelGraph => {
    switch (s.arch) {
      case 'mlp':
        return mlp({ width: s.width ?? 512, ...(Array.isArray(s.width) ? {} : { depth: s.depth ?? 2 }), ...act, inputDim: size, classes });
      case 'resmlp':
        if (Array.isArray(s.width)) invalid(`${field}.width`, 'must be one number for resmlp');
        return resmlp({ width: (s.width as number | undefined) ?? 128, blocks: s.depth ?? 2, ...(s.hidden === undefined ? {} : { hidden: s.hidden }), ...act, inputDim: size, classes });
      case 'minimyrtle':
        depthUnused();
        return miniMyrtle((s.width as number | undefined) ?? 16, { input: image(), classes, ...act });
      case 'resnet':
        return resnet({ ...(Array.isArray(s.width) ? { widths: s.width as number[] } : { widthMultiplier: (s.width as number | undefined) ?? 1 }), blocksPerStage: s.depth ?? 3, input: image(), classes, ...act });
      case 'cnn':
        depthUnused();
        return cnn({ widths: s.width ?? [32, 64], input: image(), classes, ...act });
      case 'transformer': {
        if (s.vocab === undefined) invalid(`${field}.vocab`, 'is needed for a transformer (the token vocabulary size)');
        const seqLen = s.seqLen ?? (io.input.length === 1 ? (io.input[0] as number) : undefined);
        if (seqLen === undefined) invalid(`${field}.seqLen`, 'is needed for a transformer');
        return transformer({
          vocab: s.vocab,
          seqLen,
          dim: (s.width as number | undefined) ?? 128,
          layers: s.depth ?? 1,
          ...(s.heads === undefined ? {} : { heads: s.heads }),
          ...(s.layernorm === undefined ? {} : { layernorm: s.layernorm }),
          ...act,
          classes,
        });
      }
    }
  });
  return { ...graph, meta: { ...(graph.meta ?? {}), spec: s } };
}
