import { tf } from '@shiftmix/core';
import { registerFusedGradients } from '@shiftmix/core/kernels';
import { registerAddNKernel } from './add-n.js';
import { ADAMW_KERNEL, adamwKernel } from './adamw.js';
import { attentionKernelConfigs } from './attention/kernel.js';
import { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL, crossEntropyBackward, crossEntropyForward } from './cross-entropy.js';
import { DROPOUT_KERNEL, dropoutForward } from './dropout.js';
import { FUSION_BLEND_GRAD_KERNEL, FUSION_BLEND_KERNEL, fusionBlendBackward, fusionBlendForward } from './fusion-blend.js';
import { HSM_AB_GRAD_KERNEL, HSM_AB_KERNEL, hsmAbBackward, hsmAbForward } from './hsm-ab.js';
import { ADD_LAYER_NORM_KERNEL, LAYER_NORM_KERNEL, addLayerNormForward, layerNormForward } from './layer-norm.js';
import { LAYER_NORM_GRAD_KERNEL, layerNormBackward } from './layer-norm-grad.js';
import { BIAS_GELU_GRAD_KERNEL, BIAS_GELU_KERNEL, biasGeluBackward, biasGeluForward } from './bias-gelu.js';
import { registerMatMulKernels } from './matmul/register.js';

export const WEBGPU_BACKEND = 'webgpu';

// Every fused kernel this package implements (core's kernels/table.ts has their contracts
// and references; the group shift is left to its composite here).
const kernels: tf.KernelConfig[] = [
  { kernelName: HSM_AB_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: hsmAbForward as unknown as tf.KernelFunc },
  { kernelName: HSM_AB_GRAD_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: hsmAbBackward as unknown as tf.KernelFunc },
  { kernelName: FUSION_BLEND_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: fusionBlendForward as unknown as tf.KernelFunc },
  { kernelName: FUSION_BLEND_GRAD_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: fusionBlendBackward as unknown as tf.KernelFunc },
  { kernelName: DROPOUT_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: dropoutForward as unknown as tf.KernelFunc },
  { kernelName: LAYER_NORM_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: layerNormForward as unknown as tf.KernelFunc },
  { kernelName: ADD_LAYER_NORM_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: addLayerNormForward as unknown as tf.KernelFunc },
  { kernelName: LAYER_NORM_GRAD_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: layerNormBackward as unknown as tf.KernelFunc },
  { kernelName: BIAS_GELU_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: biasGeluForward as unknown as tf.KernelFunc },
  { kernelName: BIAS_GELU_GRAD_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: biasGeluBackward as unknown as tf.KernelFunc },
  { kernelName: CROSS_ENTROPY_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: crossEntropyForward as unknown as tf.KernelFunc },
  { kernelName: CROSS_ENTROPY_GRAD_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: crossEntropyBackward as unknown as tf.KernelFunc },
  { kernelName: ADAMW_KERNEL, backendName: WEBGPU_BACKEND, kernelFunc: adamwKernel as unknown as tf.KernelFunc },
  ...attentionKernelConfigs,
];

/**
 * Registers everything this package puts under the webgpu backend (idempotent): the fused
 * kernels of the table above, core's gradients for them, and the tfjs kernels it replaces
 * (BatchMatMul and _FusedMatMul with the register-tiled matmul, AddN in chunks). Core's
 * ops dispatch to the fused ones whenever webgpu is active.
 */
export function registerShiftmixKernels(): void {
  for (const config of kernels) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  registerFusedGradients();
  registerMatMulKernels();
  registerAddNKernel();
}

export const SHIFTMIX_KERNEL_NAMES = kernels.map((k) => k.kernelName);
