// Node-only API of the model area: datasets from data specs, model files (checkpoints, state_dicts,
// ONNX). Training models on Node lives in `../train/node-index.ts`.
export { loadDataSpec } from './node.js';
export { loadModel, saveModel, type LoadedModel, type SaveModelOptions } from './load.js';
export { loadOnnxFile } from './load-onnx.js';
