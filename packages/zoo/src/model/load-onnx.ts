// Node-only: reading a model from an .onnx file (graph and weights in one file), for loadModel.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { BasisError, isBasisError } from '@basis/tensor';
import { importOnnx, type OnnxImportReport } from '../onnx/import.js';
import type { ReadOptions } from '@basis/tensor';
import type { LoadedModel } from './loaded-model.js';

/**
 * Reads an `.onnx` file as a model: its graph becomes the IR, its initializers the parameters
 * (see {@link importOnnx}). Every problem (missing file, truncated or corrupt protobuf, an operator
 * basis cannot express) raises BAD_FILE naming the path.
 *
 * @example
 * ```ts
 * const m = await loadOnnxFile('resnet.onnx');
 * m.onnx.mapping.length; // IR nodes read
 * ```
 */
export async function loadOnnxFile(path: string, opts: ReadOptions = {}): Promise<LoadedModel & { onnx: OnnxImportReport }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BasisError('BAD_FILE', `${path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, { cause: e, details: { path } });
  }
  try {
    const { graph, params, report } = importOnnx(bytes, { ...opts, fallbackName: basename(path, extname(path)) });
    return { graph, params, manifest: null, path, onnx: report };
  } catch (e) {
    if (isBasisError(e)) throw new BasisError('BAD_FILE', `${path}: ${e.message}`, { cause: e, details: { path, ...(e.details ?? {}) } });
    throw e;
  }
}
