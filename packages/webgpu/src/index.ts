import { registerBackendProvider } from '@shiftmix/core/kernels';
import { webgpuBackendProvider } from './backend.js';
import { registerReplacedKernels } from './kernels.js';
import './plan/index.js';

export {
  activateWebGpu,
  probeWebGpu,
  releaseWebGpu,
  releasePooledBuffers,
  syncWebGpu,
  webGpuBackend,
  webGpuDevice,
  webGpuErrors,
  webGpuInfo,
  webgpuBackendProvider,
  type WebGpuInfo,
} from './backend.js';
export {
  MESA_PACKAGES,
  describeAdapter,
  requestGpuAdapter,
  requestGpuDevice,
  type AdapterReport,
  type DawnBackend,
  type GpuAdapterHandle,
  type WebGpuOptions,
} from './device.js';
export { registerReplacedKernels, WEBGPU_BACKEND } from './kernels.js';
export { FusionBlendGradProgram, FusionBlendProgram } from './fusion-blend.js';
export { DropoutProgram, dropoutHash, dropoutScale } from './dropout.js';
export { LayerNormProgram } from './layer-norm.js';
export { ColumnSumProgram, LAYER_NORM_MAX_DIM, LayerNormGradProgram, layerNormTuning } from './layer-norm-grad.js';
export { BiasGeluGradProgram, BiasGeluProgram, biasGeluTuning } from './bias-gelu.js';
export { CrossEntropyGradProgram, CrossEntropyMeanProgram, CrossEntropyRowsProgram, crossEntropyTuning } from './cross-entropy-programs.js';
export { AdamWUpdateProgram, ClipStatsProgram, SumSquaresProgram, adamwTuning } from './adamw.js';
export type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
export {
  alignedRows,
  bindingTuning,
  foldedDispatch,
  kernelTuning,
  makeShaderSource,
  maxBindingBytes,
  Program,
  rowChunks,
  runProgram,
  type BufferRange,
  type ShiftmixProgram,
} from './runtime.js';
export { adapterIdentity } from './tuning.js';
export { applyModelKernelTuning, attentionProblem, tuneModelKernels, type ModelKernelTuning, type TunedModel } from './tune-model.js';

// Importing the package is what makes `selectBackend('webgpu')` work (core never imports it):
// the provider registers, kernels.ts implements the fused kernels, and the replaced tfjs
// kernels are swapped in.
registerBackendProvider('webgpu', webgpuBackendProvider);
registerReplacedKernels();
export * from './matmul/index.js';
export * from './attention/index.js';
export * from './profile/index.js';
export { compileWebGpuStep } from './plan/index.js';
export { CompiledWebGpuStep } from './plan/compiled.js';
export { registerAddNKernel } from './add-n.js';
