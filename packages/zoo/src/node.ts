// @basis/zoo/node: Node-only loaders (file system access). Everything in `@basis/zoo` works here too.
export * from './data/node.js';
export * from './train/node.js';
export * from './model/node-index.js';
