// @basis/zoo public API (browser-safe). Node-only file access lives in `@basis/zoo/node`.
export * from './data/index.js';
export * from './graph/index.js';
export * from './train/index.js';
export * from './model/index.js';
export * from './onnx/index.js';
