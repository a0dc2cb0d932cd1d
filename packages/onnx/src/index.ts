export { DEFAULT_OPSET, MAX_OPSET, exportModel, type ExportOptions, type ExportableBlock, type ExportableModel, type ModelExport } from './export.js';
export { exportCheckpoint, exportFiles, writeExport, type WrittenExport } from './write.js';
export { MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest } from './manifest.js';
export type { StateEntry } from './state-layout.js';
export { GraphBuilder } from './graph-builder.js';
export { MIN_OPSET, checkModel, findProblems } from './check.js';
export * from './onnx-proto.js';
