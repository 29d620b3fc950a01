// Public API of the ONNX area: reading and writing .onnx files and converting them to and from the graph IR.
export { decodeOnnx, encodeOnnx, ONNX_DTYPES, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.js';
export { formatOnnxReport, importOnnx, type ImportOnnxOptions, type OnnxImport, type OnnxImportReport } from './import.js';
export { exportOnnx, ONNX_EXPORT_OPSET, type ExportOnnxOptions } from './export.js';
