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
export { matrixToNpy, readNpy, readNpyMatrix, writeNpy } from './npy.js';
export { readNpz, writeNpz } from './npz.js';
export { readSafetensors, writeSafetensors, type SafetensorsContent } from './safetensors.js';
export { readTorch, writeTorch, type ReadTorchOptions, type TorchContent, type TorchSkipped } from './torch.js';
