import { registerBackendProvider } from '@shiftmix/core/kernels';
import { webgpuBackendProvider } from './backend.js';
import { registerShiftmixKernels } from './kernels.js';

export {
  activateWebGpu,
  probeWebGpu,
  releaseWebGpu,
  syncWebGpu,
  webGpuBackend,
  webGpuDevice,
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
export { registerShiftmixKernels, SHIFTMIX_KERNEL_NAMES, WEBGPU_BACKEND } from './kernels.js';
export { HSM_AB_GRAD_KERNEL, HSM_AB_KERNEL, HsmAbGradProgram, HsmAbProgram, PartialSumProgram, hsmAbTuning } from './hsm-ab.js';
export { FUSION_BLEND_GRAD_KERNEL, FUSION_BLEND_KERNEL, FusionBlendGradProgram, FusionBlendProgram } from './fusion-blend.js';
export { DROPOUT_KERNEL, DropoutProgram, dropoutHash, dropoutScale } from './dropout.js';
export { ADD_LAYER_NORM_KERNEL, LAYER_NORM_KERNEL, LayerNormProgram } from './layer-norm.js';
export { ColumnSumProgram, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_MAX_DIM, LayerNormGradProgram, layerNormTuning } from './layer-norm-grad.js';
export { BIAS_GELU_GRAD_KERNEL, BIAS_GELU_KERNEL, BiasGeluGradProgram, BiasGeluProgram, biasGeluTuning } from './bias-gelu.js';
export { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL } from './cross-entropy.js';
export { CrossEntropyGradProgram, CrossEntropyMeanProgram, CrossEntropyRowsProgram, crossEntropyTuning } from './cross-entropy-programs.js';
export { ADAMW_KERNEL, AdamWUpdateProgram, ClipStatsProgram, SumSquaresProgram, adamwTuning } from './adamw.js';
export type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
export { foldedDispatch, makeShaderSource, runProgram, type ShiftmixProgram } from './runtime.js';
export { adapterIdentity } from './tuning.js';
export { applyModelKernelTuning, attentionProblem, tuneModelKernels, type ModelKernelTuning, type TunedModel } from './tune-model.js';

// Importing the package is what makes `selectBackend('webgpu')` work (core never imports it).
registerBackendProvider('webgpu', webgpuBackendProvider);
registerShiftmixKernels();
export * from './matmul/index.js';
export * from './attention/index.js';
export * from './profile/index.js';
export { registerAddNKernel } from './add-n.js';
