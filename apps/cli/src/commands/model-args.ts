// Shared by the commands that take a MODEL argument (eval, activations, symmetry check/apply, and
// the pair commands match/interpolate/llfc/stitch): the --arch/--width/--depth/--key-map flags,
// opening the model (a checkpoint, or a bare .pt/.safetensors file mapped onto the described
// architecture) and finding the data it was trained on.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { BasisError } from '@basis/tensor';
import { DATASET_NAMES, MODEL_ARCHS, WIDTH_LIST_ARCHS, buildModel, parseDataSpec, formatOnnxReport, formatStateDictReport, parseKeyMapRule, subset, type ClassificationDataset, type DataSpec, type KeyMapRule, type ModelSpec } from '@basis/zoo';
import { loadDataSpec, loadModel, type LoadedModel } from '@basis/zoo/node';
import { choice, custom, FlagValueError, int, parseOptions, repeatable, value, type RawValue } from '../cli/declare.js';

/**
 * `--width`: one integer, or a comma-separated list of integers (`64,32`) for the architectures
 * that take one width per layer or stage (USAGE naming the bad entry otherwise).
 */
export function widthFlag(v: unknown, flag = '--width'): number | number[] {
  const s = String(v).trim();
  if (!s.includes(',')) return intFlag(s, flag, 1);
  const parts = s.split(',').map((p) => p.trim());
  return parts.map((p, i) => {
    if (p === '') throw new BasisError('USAGE', `${flag} '${s}' has an empty entry at position ${i + 1}; give integers separated by commas, e.g. 64,32`);
    const n = Number(p);
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(n) || n < 1) throw new BasisError('USAGE', `${flag} entry ${i + 1} must be an integer >= 1, got '${p}' (in '${s}')`);
    return n;
  });
}

/** An integer flag (USAGE error naming the flag otherwise). */
function intFlag(v: unknown, flag: string, min: number): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isSafeInteger(n) || n < min) throw new BasisError('USAGE', `${flag} must be an integer >= ${min}, got '${String(v)}'`);
  return n;
}

/** The model flags of a command, parsed at the door (see {@link modelArgsOf}). */
export interface ModelArgs {
  /** The architecture of a bare weights file (--arch, --width, --depth). */
  spec?: ModelSpec;
  /** `--key-map` rules. */
  keyMap?: KeyMapRule[];
  /** `--dataset`. */
  dataset?: (typeof DATASET_NAMES)[number];
}

/** The model flags as given (each command declares them as text; {@link modelArgsOf} parses them). */
export interface ModelFlagValues {
  arch?: string | undefined;
  width?: string | undefined;
  depth?: string | undefined;
  keyMap?: readonly string[] | undefined;
  dataset?: string | undefined;
}

/** The model flags' schemas (they need @basis/zoo's registries, so they are applied here, not in the command table). */
const MODEL_FLAGS = {
  arch: value('name', '', choice(MODEL_ARCHS)),
  width: value('n', '', custom((s) => widthFlag(s, '{flag}'))),
  depth: value('n', '', int(1)),
  keyMap: repeatable(
    'rule',
    '',
    custom((r) => {
      try {
        return parseKeyMapRule(r);
      } catch (e) {
        throw new FlagValueError(`{flag}: ${(e as Error).message}`);
      }
    }),
  ),
  dataset: value('name', '', choice(DATASET_NAMES)),
};

/**
 * Parses the model flags of a command (before any file is read): --arch, --width (one integer or a
 * list, for the architectures that take one), --depth, --key-map rules and --dataset; --width and
 * --depth need --arch. USAGE errors name the flag.
 */
export function modelArgsOf(given: ModelFlagValues): ModelArgs {
  const raw: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined) raw[k] = v as RawValue;
  const f = parseOptions(MODEL_FLAGS, raw);
  let spec: ModelSpec | undefined;
  if (f.arch === undefined) {
    for (const k of ['width', 'depth'] as const) if (f[k] !== undefined) throw new BasisError('USAGE', `--${k} needs --arch`);
  } else {
    spec = { arch: f.arch };
    if (f.width !== undefined) {
      if (Array.isArray(f.width) && !(WIDTH_LIST_ARCHS as readonly string[]).includes(f.arch)) {
        throw new BasisError('USAGE', `--width takes one number for ${f.arch}; lists such as ${f.width.join(',')} are for ${WIDTH_LIST_ARCHS.join(', ')}`);
      }
      spec.width = f.width;
    }
    if (f.depth !== undefined) spec.depth = f.depth;
  }
  return { ...(spec === undefined ? {} : { spec }), ...(f.keyMap === undefined || f.keyMap.length === 0 ? {} : { keyMap: f.keyMap }), ...(f.dataset === undefined ? {} : { dataset: f.dataset }) };
}

/**
 * Reads MODEL: a checkpoint or run directory, an .onnx file (graph and weights; no --arch), or a
 * bare .safetensors/.pt file described by the --arch flags (its keys need not be basis' names: see
 * --key-map; `info` receives the import report). Shared by the single-model commands and the pair commands (match, interpolate, ...),
 * which describe bare files with one set of flags (`archForFilesOnly`: a checkpoint beside a bare
 * file ignores them).
 */
export async function loadModelArg(path: string, margs: ModelArgs, info?: (text: string) => void, opts: { archForFilesOnly?: boolean } = {}): Promise<LoadedModel> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    // loadModel reports the missing path as BAD_FILE
  }
  const { spec, keyMap } = margs;
  if (isFile && extname(path).toLowerCase() === '.onnx') {
    if (spec !== undefined && opts.archForFilesOnly !== true) throw new BasisError('USAGE', `'${path}': an .onnx file holds its own graph, so leave out --arch`);
    if (keyMap !== undefined && opts.archForFilesOnly !== true) throw new BasisError('USAGE', `--key-map renames the keys of a bare .pt/.safetensors file; '${path}' is an .onnx file`);
    const m = await loadModel(path);
    if (m.onnx !== undefined && info !== undefined) info(`${path}: ${formatOnnxReport(m.onnx)}`);
    return m;
  }
  if (isFile) {
    if (spec === undefined) throw new BasisError('USAGE', `'${path}' is a weights file without a model graph; give its architecture with --arch (and --width, --depth), or pass a checkpoint directory`);
    const graph = buildModel(spec, { input: [1, 28, 28], classes: 10 });
    const m = await loadModel(path, { graph, ...(keyMap === undefined ? {} : { keyMap }) });
    if (m.report !== undefined && info !== undefined) info(`${path}: ${formatStateDictReport(m.report)}`);
    return m;
  }
  if (keyMap !== undefined && opts.archForFilesOnly !== true) throw new BasisError('USAGE', `--key-map renames the keys of a bare .pt/.safetensors file; '${path}' is a checkpoint directory`);
  const m = await loadModel(path);
  if (spec !== undefined && opts.archForFilesOnly !== true) throw new BasisError('USAGE', `'${path}' is a checkpoint: its manifest holds the architecture, so leave out --arch`);
  return m;
}

/** Opens MODEL (see {@link loadModelArg}) and finds the data to use: --dataset, else the one recorded by `basis train`, else mnist. */
export async function openModel(path: string, margs: ModelArgs, info?: (text: string) => void): Promise<LoadedModel & { data: DataSpec }> {
  const m = await loadModelArg(path, margs, info);
  return { ...m, data: dataFor(margs.dataset, m.manifest?.meta ?? null) };
}

/** The data spec: --dataset, else the one recorded by `basis train`, else mnist. */
function dataFor(dataset: ModelArgs['dataset'], meta: Record<string, unknown> | null): DataSpec {
  if (dataset !== undefined) return { dataset };
  const recorded = meta?.['data'];
  if (recorded !== undefined && recorded !== null) {
    try {
      return parseDataSpec(recorded, 'manifest.meta.data');
    } catch {
      // an unreadable record: fall back to the default
    }
  }
  return { dataset: 'mnist' };
}

/** The full test split of a data spec (subsets dropped), optionally its first n examples. */
export async function testSet(spec: DataSpec, n?: number): Promise<ClassificationDataset> {
  const { trainSize: _t, testSize: _s, ...rest } = spec;
  const { test } = await loadDataSpec(rest);
  if (n === undefined || n >= test.n) return test;
  return subset(test, Int32Array.from({ length: n }, (_, i) => i), `${test.name}[:${n}]`);
}
