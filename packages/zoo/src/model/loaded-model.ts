// What loading a model from disk gives (checkpoint, bare weights file or ONNX file), in a module of
// its own so that load.ts and the ONNX loader it calls (load-onnx.ts) need not import each other.
import type { ModelGraph, ParamDict } from '../graph/index.js';
import type { OnnxImportReport } from '../onnx/import.js';
import type { CheckpointManifest } from '../train/checkpoint.js';
import type { StateDictReport } from './state-dict.js';

/**
 * A trained model read from disk.
 *
 * @example
 * ```ts
 * const { graph, params, manifest } = await loadModel('runs/mlp/seed-0');
 * ```
 */
export interface LoadedModel {
  graph: ModelGraph;
  params: ParamDict;
  /** The checkpoint manifest, or null for a bare weights file. */
  manifest: CheckpointManifest | null;
  /** The file or directory read. */
  path: string;
  /** For a bare weights file: how its entries became the graph's parameters (used, renamed, ignored). */
  report?: StateDictReport;
  /** For an .onnx file: which ONNX nodes became which graph nodes, what was folded or dropped. */
  onnx?: OnnxImportReport;
}
