// Datasets of a run, loaded once per data spec (the same objects are reused, so the training
// pool copies them into shared memory once and recipes evaluate on the same arrays).
import { parseDataSpec, type DataSpec, type DataSplit } from '@basis/zoo';
import { loadDataSpec } from '@basis/zoo/node';
import { contentHash } from './json.js';

const loaded = new Map<string, Promise<DataSplit>>();

/**
 * Loads the train/test split a zoo {@link DataSpec} describes, once per process and spec
 * (validated first: CONFIG_INVALID names the field).
 *
 * @example
 * ```ts
 * const { train, test } = await loadData({ dataset: 'mnist', trainSize: 1000, testSize: 500 });
 * ```
 */
export function loadData(spec: DataSpec, field = 'data'): Promise<DataSplit> {
  const s = parseDataSpec(spec, field);
  const key = contentHash(s);
  let p = loaded.get(key);
  if (p === undefined) {
    p = loadDataSpec(s, field);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}
