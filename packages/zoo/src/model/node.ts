// Node-only model-area helper: the train and test sets a data spec describes, loaded from disk or
// generated.
import { BasisError } from '@basis/tensor';
import { sampleSubset, splitDataset } from '../data/dataset.js';
import { loadFashionMnist, loadIdxDataset, loadMnist, loadMnistIdx } from '../data/node.js';
import { gaussianMixture, modularAddition } from '../data/synthetic.js';
import type { ClassificationDataset, DataSplit } from '../data/types.js';
import { parseDataSpec, type DataSpec } from './data-spec.js';

/** The test split of a dataset by `testFraction` and seed (class-stratified). */
function holdOut(ds: ClassificationDataset, fraction: number, seed: number | string): DataSplit {
  const { train, test } = splitDataset(ds, { testFraction: fraction, seed });
  return { train, test };
}

/**
 * Loads the train and test sets a {@link DataSpec} describes (validated first: CONFIG_INVALID
 * names the field). Fashion-MNIST needs the optional `fashion-mnist` package; IDX files that are
 * missing raise IO, malformed ones BAD_FILE.
 *
 * @example
 * ```ts
 * const { train, test } = await loadDataSpec({ dataset: 'mnist', trainSize: 2000, testSize: 500 });
 * const grok = await loadDataSpec({ dataset: 'modadd', p: 97 }); // tokens [a, b, =], for the transformer
 * const own = await loadDataSpec({ dataset: 'idx', train: { images: 'tr-img.gz', labels: 'tr-lab.gz' }, testFraction: 0.1 });
 * ```
 */
export async function loadDataSpec(spec: DataSpec, field = 'data'): Promise<DataSplit> {
  const s = parseDataSpec(spec, field);
  const seed = s.seed ?? 0;
  let split: DataSplit;
  switch (s.dataset) {
    case 'fashion':
      // (subsets are taken by the loader)
      return loadFashionMnist({
        normalize: s.normalize ?? 'standard',
        seed,
        ...(s.trainSize === undefined ? {} : { trainSize: s.trainSize }),
        ...(s.testSize === undefined ? {} : { testSize: s.testSize }),
      });
    case 'mnist':
      split = await loadMnist({ normalize: s.normalize ?? 'standard', seed, ...(s.testFraction === undefined ? {} : { testFraction: s.testFraction }) });
      break;
    case 'idx': {
      const source = s.source ?? 'mnist';
      const normalize = s.normalize ?? (source === 'idx' ? 'unit' : 'standard');
      if (s.dir !== undefined) {
        split = await loadMnistIdx(s.dir, { source: source === 'idx' ? 'mnist' : source, normalize });
        break;
      }
      const load = (f: NonNullable<DataSpec['train']>, name: string): Promise<ClassificationDataset> => loadIdxDataset({ ...f, source, name, normalize });
      const train = await load(s.train!, `${source}-idx/train`);
      split = s.test === undefined ? holdOut(train, s.testFraction ?? 0.2, seed) : { train, test: await load(s.test, `${source}-idx/test`) };
      break;
    }
    case 'modadd': {
      const m = modularAddition({ p: s.p ?? 97, trainFraction: s.trainFraction ?? 0.3, seed, encoding: s.encoding ?? 'tokens' });
      split = { train: m.train, test: m.test };
      break;
    }
    case 'gaussian': {
      const all = gaussianMixture({ n: s.n ?? 2000, numClasses: s.classes ?? 3, dim: s.dim ?? 10, separation: s.separation ?? 3, std: s.std ?? 1, seed });
      split = holdOut(all, s.testFraction ?? 0.2, seed);
      break;
    }
  }
  const cut = (ds: ClassificationDataset, size: number | undefined, what: 'trainSize' | 'testSize'): ClassificationDataset => {
    if (size === undefined || size === ds.n) return ds;
    if (size > ds.n) throw new BasisError('CONFIG_INVALID', `${field}.${what} is ${size} but the ${s.dataset} ${what === 'trainSize' ? 'train' : 'test'} set has ${ds.n} examples`, { details: { field: `${field}.${what}` } });
    return { ...sampleSubset(ds, { size, seed: `${String(seed)}:${what}` }), name: ds.name };
  };
  return { train: cut(split.train, s.trainSize, 'trainSize'), test: cut(split.test, s.testSize, 'testSize') };
}
