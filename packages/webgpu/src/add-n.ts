import { tf } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

const BACKEND = 'webgpu';

// tfjs-backend-webgpu's AddN, kept for the sums that fit one program.
let originalAddN: tf.KernelFunc | undefined;

/** Inputs one AddN program may bind: the stage's storage buffers minus the output. */
function maxInputs(backend: WebGPUBackend): number {
  const limit = (backend as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
  return Math.max(2, limit - 1);
}

/**
 * tfjs-backend-webgpu binds every AddN input to one program, so a sum of more tensors
 * than the stage's storage-buffer limit (8 to 16 on many adapters) fails to compile,
 * and with it the whole command buffer. Core's globalNorm sums one square per weight.
 * This sums such inputs in chunks that fit, then sums the partial results.
 */
function chunkedAddN(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  const chunk = maxInputs(backend);
  if (inputs.length <= chunk) return originalAddN!({ ...args, inputs: inputs as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
  const partials: tf.TensorInfo[] = [];
  for (let i = 0; i < inputs.length; i += chunk) {
    const part = inputs.slice(i, i + chunk);
    partials.push(part.length === 1 ? part[0] : chunkedAddN({ ...args, inputs: part as unknown as tf.NamedTensorInfoMap }));
  }
  const out = chunkedAddN({ ...args, inputs: partials as unknown as tf.NamedTensorInfoMap });
  for (const p of partials) if (!inputs.includes(p)) backend.disposeData(p.dataId);
  return out;
}

/** Puts chunkedAddN in front of tfjs-backend-webgpu's AddN (idempotent). */
export function registerAddNKernel(): void {
  const current = tf.getKernel('AddN', BACKEND);
  if (current?.kernelFunc === chunkedAddN) return;
  if (current) {
    originalAddN = current.kernelFunc;
    tf.unregisterKernel('AddN', BACKEND);
  }
  if (!originalAddN) return;
  tf.registerKernel({ kernelName: 'AddN', backendName: BACKEND, kernelFunc: chunkedAddN as unknown as tf.KernelFunc });
}
