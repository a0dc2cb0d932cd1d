export { DEFAULT_OPSET, MAX_OPSET, exportModel, type ExportOptions, type ExportableBlock, type ExportableModel, type ModelExport } from './export.js';
export { exportCheckpoint, writeExport, type WrittenExport } from './write.js';
export { MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest } from './manifest.js';
export type { StateEntry } from './state-layout.js';
export { GraphBuilder } from './graph-builder.js';
export { MIN_OPSET, checkModel, findProblems } from './check.js';
export {
  decodeModel,
  encodeModel,
  type AttributeValue,
  type Dim,
  type ElemType,
  type GraphData,
  type ModelData,
  type NodeData,
  type TensorData,
  type ValueInfo,
} from './onnx-proto.js';
