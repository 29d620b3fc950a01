// Shared by the commands that take a MODEL argument (eval, activations, symmetry check/apply):
// opening the model and finding the data it was trained on.
import { stat } from 'node:fs/promises';
import { BasisError } from '@basis/tensor';
import { DATASET_NAMES, MODEL_ARCHS, buildModel, checkDataSpec, subset, type ClassificationDataset, type DataSpec, type ModelSpec } from '@basis/zoo';
import { loadDataSpec, loadModel, type LoadedModel } from '@basis/zoo/node';

/** Flags describing the architecture of a bare weights file, and the data to use. */
export interface ModelFlags {
  arch?: string;
  width?: string;
  depth?: string;
  activation?: string;
  dataset?: string;
}

/** An integer flag (USAGE error naming the flag otherwise). */
export function intFlag(v: unknown, flag: string, min: number): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isSafeInteger(n) || n < min) throw new BasisError('USAGE', `${flag} must be an integer >= ${min}, got '${String(v)}'`);
  return n;
}

/** A finite number flag. */
export function numFlag(v: unknown, flag: string, opts: { gt?: number; ge?: number } = {}): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  const ok = Number.isFinite(n) && (opts.gt === undefined || n > opts.gt) && (opts.ge === undefined || n >= opts.ge);
  if (!ok) throw new BasisError('USAGE', `${flag} must be a number${opts.gt !== undefined ? ` > ${opts.gt}` : opts.ge !== undefined ? ` >= ${opts.ge}` : ''}, got '${String(v)}'`);
  return n;
}

/** A choice flag. */
export function choiceFlag<T extends string>(v: unknown, flag: string, choices: readonly T[]): T {
  const s = String(v);
  if (!(choices as readonly string[]).includes(s)) throw new BasisError('USAGE', `${flag} must be one of ${choices.join(', ')}, got '${s}'`);
  return s as T;
}

/** The model spec given by --arch/--width/--depth/--activation (undefined without --arch). */
export function specFromFlags(f: ModelFlags): ModelSpec | undefined {
  if (f.arch === undefined) {
    for (const k of ['width', 'depth', 'activation'] as const) if (f[k] !== undefined) throw new BasisError('USAGE', `--${k} needs --arch`);
    return undefined;
  }
  const spec: ModelSpec = { arch: choiceFlag(f.arch, '--arch', MODEL_ARCHS) };
  if (f.width !== undefined) spec.width = intFlag(f.width, '--width', 1);
  if (f.depth !== undefined) spec.depth = intFlag(f.depth, '--depth', 1);
  if (f.activation !== undefined) spec.activation = f.activation as ModelSpec['activation'];
  return spec;
}

/** Opens MODEL: a checkpoint or run directory, or a .safetensors/.pt file with --arch flags. */
export async function openModel(path: string, flags: ModelFlags): Promise<LoadedModel & { data: DataSpec }> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    // loadModel reports the missing path as BAD_FILE
  }
  const spec = specFromFlags(flags);
  const data = dataFor(flags, null);
  if (isFile) {
    if (spec === undefined) throw new BasisError('USAGE', `'${path}' is a weights file without a model graph; give its architecture with --arch (and --width, --depth), or pass a checkpoint directory`);
    const graph = buildModel(spec, { input: [1, 28, 28], classes: 10 });
    return { ...(await loadModel(path, { graph })), data };
  }
  const m = await loadModel(path);
  if (spec !== undefined) throw new BasisError('USAGE', `'${path}' is a checkpoint: its manifest holds the architecture, so leave out --arch`);
  return { ...m, data: dataFor(flags, m.manifest?.meta ?? null) };
}

/** The data spec: --dataset, else the one recorded by `basis train`, else mnist. */
function dataFor(flags: ModelFlags, meta: Record<string, unknown> | null): DataSpec {
  if (flags.dataset !== undefined) return { dataset: choiceFlag(flags.dataset, '--dataset', DATASET_NAMES) };
  const recorded = meta?.['data'];
  if (recorded !== undefined && recorded !== null) {
    try {
      return checkDataSpec(recorded, 'manifest.meta.data');
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
