// The one grammar of data on the command line (`basis train --data`, `basis degeneracy --data`,
// ...): a dataset name with options, turned into a parsed DataSpec, or an array file.
import { BasisError, isBasisError } from '@basis/tensor';
import { DATASET_NAMES, parseDataSpec, type DataSpec } from './data-spec.js';

/**
 * What a `--data` argument names: a dataset (a parsed {@link DataSpec}, and the number of
 * examples asked for when the argument ends in a bare count, `mnist:200`), or an array file
 * (`.npy`, `file.npz:key`, `file.safetensors:name`) when the options allow files.
 *
 * @example
 * ```ts
 * const a: DataArg = { kind: 'spec', spec: { dataset: 'mnist' }, count: 200 };
 * const b: DataArg = { kind: 'file', path: 'inputs.npy' };
 * ```
 */
export type DataArg = { kind: 'spec'; spec: DataSpec; count?: number } | { kind: 'file'; path: string };

/**
 * Options of {@link parseDataArg}.
 *
 * @example
 * ```ts
 * const opts: DataArgOptions = { flag: '--data', count: true, files: true };
 * ```
 */
export interface DataArgOptions {
  /** The flag named in errors (default `--data`). */
  flag?: string;
  /** Accept a bare count among the options (`mnist:200`: the first 200 examples). Default false. */
  count?: boolean;
  /** Read an argument that does not start with a dataset name as an array file. Default false. */
  files?: boolean;
}

/** DataSpec fields that take numbers. */
const NUMERIC_KEYS = new Set(['p', 'trainFraction', 'testFraction', 'n', 'classes', 'dim', 'separation', 'std', 'trainSize', 'testSize']);

/**
 * Parses a `--data` argument: `NAME[:OPTIONS]` with NAME one of mnist, fashion, idx, modadd,
 * gaussian and OPTIONS a comma-separated list of `key=value` DataSpec fields (`p=97`,
 * `trainSize=2000`, `seed=3`, `source=idx`, ...); for `idx` also a folder, or 2 files (train
 * images, labels) or 4 (then test images, labels); with `count`, a bare number is the number of
 * examples to use. The spec is parsed by {@link parseDataSpec}; problems are USAGE errors naming
 * the flag.
 *
 * @example
 * ```ts
 * parseDataArg('modadd:p=97,trainFraction=0.3'); // { kind: 'spec', spec: { dataset: 'modadd', p: 97, trainFraction: 0.3 } }
 * parseDataArg('idx:tr-img.gz,tr-lab.gz'); // { kind: 'spec', spec: { dataset: 'idx', train: { images: 'tr-img.gz', labels: 'tr-lab.gz' } } }
 * parseDataArg('mnist:200', { count: true }); // { kind: 'spec', spec: { dataset: 'mnist' }, count: 200 }
 * parseDataArg('acts.npy', { files: true }); // { kind: 'file', path: 'acts.npy' }
 * ```
 */
export function parseDataArg(text: string, opts: DataArgOptions = {}): DataArg {
  const flag = opts.flag ?? '--data';
  const usage = (why: string): never => {
    throw new BasisError('USAGE', `${flag} ${why} (e.g. ${flag} idx:train-images.gz,train-labels.gz or ${flag} modadd:p=97)`);
  };
  if (typeof text !== 'string' || text === '') return usage('needs a value');
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    if (opts.files === true) return { kind: 'file', path: text };
    return usage(`must start with one of ${DATASET_NAMES.join(', ')}, got '${name}'`);
  }
  const spec: Record<string, unknown> = { dataset: name };
  let count: number | undefined;
  const files: string[] = [];
  for (const part of rest === '' ? [] : rest.split(',').map((x) => x.trim())) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      const k = part.slice(0, eq);
      const val = part.slice(eq + 1);
      spec[k] = NUMERIC_KEYS.has(k) ? Number(val) : k === 'seed' && /^\d+$/.test(val) ? Number(val) : val;
    } else if (opts.count === true && /^\d+$/.test(part)) {
      if (count !== undefined) usage(`${name}: gives the number of examples twice`);
      count = Number(part);
    } else if (name === 'idx') files.push(part);
    else usage(`${name}: options are key=value pairs${opts.count === true ? ' or a number of examples' : ''}, got '${part}'`);
  }
  if (name === 'idx') {
    if (files.length === 1) spec.dir = files[0];
    else if (files.length === 2 || files.length === 4) {
      spec.train = { images: files[0], labels: files[1] };
      if (files.length === 4) spec.test = { images: files[2], labels: files[3] };
    } else usage(`idx: needs a folder, or 2 files (train images, labels) or 4 (then test images, labels); got ${files.length}`);
  }
  try {
    return { kind: 'spec', spec: parseDataSpec(spec, flag), ...(count === undefined ? {} : { count }) };
  } catch (e) {
    if (isBasisError(e)) throw new BasisError('USAGE', e.message);
    throw e;
  }
}
