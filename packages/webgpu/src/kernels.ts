import { tf, type Tensor } from '@shiftmix/core';
import { ADAMW_KERNEL, adamwKernel } from './adamw.js';
import { CROSS_ENTROPY_GRAD_KERNEL, CROSS_ENTROPY_KERNEL, crossEntropyBackward, crossEntropyForward, crossEntropyGradConfig } from './cross-entropy.js';
import { DROPOUT_KERNEL, dropoutForward, dropoutGradConfig } from './dropout.js';
import { FUSION_BLEND_GRAD_KERNEL, FUSION_BLEND_KERNEL, fusionBlendBackward, fusionBlendForward } from './fusion-blend.js';
import { HSM_AB_GRAD_KERNEL, HSM_AB_KERNEL, hsmAbBackward, hsmAbForward } from './hsm-ab.js';
import { ADD_LAYER_NORM_KERNEL, LAYER_NORM_KERNEL, addLayerNormForward, addLayerNormGradConfig, layerNormForward, layerNormGradConfig } from './layer-norm.js';
import { LAYER_NORM_GRAD_KERNEL, layerNormBackward } from './layer-norm-grad.js';
import { BIAS_GELU_GRAD_KERNEL, BIAS_GELU_KERNEL, biasGeluBackward, biasGeluForward, biasGeluGradConfig } from './bias-gelu.js';

export const WEBGPU_BACKEND = 'webgpu';

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
];

// The backward kernels return every input gradient at once. backpropagate calls each
// closure inside its own tidy, so the kernel runs here, in the gradient function's scope
// (the 'backward' tidy), and the closures only hand out its results.
const gradients: tf.GradConfig[] = [
  {
    kernelName: HSM_AB_KERNEL,
    inputsToSave: ['u', 'a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [u, a, b] = saved;
      const [du, da, db] = tf.engine().runKernel(HSM_AB_GRAD_KERNEL, { dy: dy as Tensor, u, a, b }, attrs) as Tensor[];
      return { u: () => du, a: () => da, b: () => db };
    },
  },
  {
    kernelName: FUSION_BLEND_KERNEL,
    inputsToSave: ['g', 'v'],
    gradFunc: (dy, saved, attrs) => {
      const [g, v] = saved;
      const [dg, dv] = tf.engine().runKernel(FUSION_BLEND_GRAD_KERNEL, { dy: dy as Tensor, g, v }, attrs) as Tensor[];
      return { g: () => dg, v: () => dv };
    },
  },
  dropoutGradConfig,
  layerNormGradConfig,
  addLayerNormGradConfig,
  biasGeluGradConfig,
  crossEntropyGradConfig,
];

/**
 * Registers the fused kernels for the webgpu backend and their gradients (idempotent).
 * Core's ops (hsmAbMix, fusionBlend) dispatch to them whenever webgpu is active.
 */
export function registerShiftmixKernels(): void {
  for (const config of kernels) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  for (const config of gradients) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
}

export const SHIFTMIX_KERNEL_NAMES = kernels.map((k) => k.kernelName);
