// Public API of the io area: array files that round-trip with numpy and PyTorch.
export {
  bfloat16ToFloat,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  matrixToNdarray,
  ndarrayToMatrix,
  type DType,
  type NdArray,
  type TypedArray,
} from './ndarray.js';
export { crc32 } from './crc32.js';
export { inflateBounded, type InflateBoundedOptions } from './inflate.js';
export { MAX_JSON_DEPTH, jsonDepth, parseJsonBounded } from './json.js';
export {
  ByteBudget,
  DEFAULT_MAX_BYTES_FLOOR,
  DEFAULT_MAX_BYTES_RATIO,
  MAX_BYTES_ENV,
  formatBytes,
  parseByteSize,
  resolveMaxBytes,
  type ReadOptions,
} from './limits.js';
export { matrixToNpy, readNpy, readNpyMatrix, writeNpy } from './npy.js';
export { readNpz, writeNpz } from './npz.js';
export { readSafetensors, writeSafetensors, type SafetensorsContent } from './safetensors.js';
export { readTorch, writeTorch, type ReadTorchOptions, type TorchContent, type TorchSkipped } from './torch.js';
