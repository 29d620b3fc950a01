import { basename, extname, resolve } from 'node:path';
import { BasisError, writeSafetensors, writeTorch } from '@basis/tensor';
import { writeFileAtomic } from '@basis/tensor/node';
import { describeGraph, exportOnnx, exportStateDict, ONNX_EXPORT_OPSET } from '@basis/zoo';
import type { CommandContext } from '../context.js';
import { openModel, type ModelArgs } from './model-args.js';

/** Formats `basis export` writes. */
export const EXPORT_FORMATS = ['onnx', 'pt', 'safetensors'] as const;

const EXT: Record<(typeof EXPORT_FORMATS)[number], string> = { onnx: '.onnx', pt: '.pt', safetensors: '.safetensors' };

/** Flags of `basis export`. */
export interface ExportOptions {
  margs: ModelArgs;
  format: (typeof EXPORT_FORMATS)[number];
  out?: string;
}

/**
 * `basis export MODEL --format onnx|pt|safetensors [--out FILE]`: writes any model basis reads
 * (a checkpoint or run directory, an .onnx file, a bare .pt/.safetensors file with --arch) as
 * ONNX (opset 13), a PyTorch state_dict or safetensors.
 */
export async function runExport(ctx: CommandContext, model: string, flags: ExportOptions): Promise<void> {
  const format = flags.format;
  const ext = EXT[format];
  let out = flags.out;
  if (out === undefined) {
    const stem = basename(model.replace(/[/\\]+$/, ''), extname(model)) || 'model';
    out = `${stem}${ext}`;
  } else {
    const given = extname(out).toLowerCase();
    const known = Object.entries(EXT).find(([, e]) => e === given);
    if (known !== undefined && known[0] !== format) throw new BasisError('USAGE', `--out '${out}' has the extension of ${known[0]}, but --format is ${format}; use a ${ext} file name or --format ${known[0]}`);
  }
  const m = await openModel(model, flags.margs, (t) => ctx.info(t));
  if (resolve(out) === resolve(m.path)) throw new BasisError('USAGE', `--out '${out}' is the model being exported; choose another file name`);
  let bytes: Uint8Array;
  if (format === 'onnx') bytes = exportOnnx(m.graph, m.params);
  else {
    const sd = exportStateDict(m.graph, m.params);
    bytes = format === 'pt' ? writeTorch(sd) : writeSafetensors(sd);
  }
  await writeFileAtomic(out, bytes);
  const desc = describeGraph(m.graph);
  ctx.info(`wrote ${m.graph.name} from ${m.path} as ${format} to ${out}`);
  ctx.result(
    {
      model: m.path,
      graph: m.graph.name,
      format,
      out,
      bytes: bytes.length,
      parameters: desc.parameterCount,
      tensors: desc.params.length,
      ...(format === 'onnx' ? { opset: ONNX_EXPORT_OPSET } : {}),
    },
    () =>
      `${out}: ${format}${format === 'onnx' ? ` (opset ${ONNX_EXPORT_OPSET})` : ''}, ${desc.params.length} tensors, ${desc.parameterCount} parameters, ${bytes.length} bytes`,
  );
}
