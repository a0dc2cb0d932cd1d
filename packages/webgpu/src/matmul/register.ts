import { tf } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { maxBindingBytes } from '../runtime.js';
import { fusedEpilogue, matMulShape, matMulTuning, runMatMul } from './kernel.js';

const BACKEND = 'webgpu';

/** How many products went to the register-tiled kernel and how many to tfjs's own; `split` of the first, in parts. */
export const matMulStats = { fast: 0, tfjs: 0, split: 0 };

// tfjs-backend-webgpu's kernel functions, kept for the products this kernel leaves to them.
const originals = new Map<string, tf.KernelFunc>();

type KernelArgs = Parameters<tf.KernelFunc>[0];

function original(name: string, args: KernelArgs): ReturnType<tf.KernelFunc> {
  matMulStats.tfjs++;
  const func = originals.get(name);
  if (!func) throw new Error(`tfjs-backend-webgpu registered no ${name} kernel`);
  return func(args);
}

function batchMatMul(args: KernelArgs): ReturnType<tf.KernelFunc> {
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const attrs = args.attrs ?? {};
  const shape = matMulTuning.enabled
    ? matMulShape(a, b, Boolean(attrs.transposeA), Boolean(attrs.transposeB), maxBindingBytes(args.backend as WebGPUBackend))
    : undefined;
  const out = shape && runMatMul(args.backend as WebGPUBackend, a, b, shape);
  if (!out) return original('BatchMatMul', args);
  matMulStats.fast++;
  return out;
}

function fusedMatMul(args: KernelArgs): ReturnType<tf.KernelFunc> {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs ?? {};
  const shape = matMulTuning.enabled
    ? matMulShape(a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), maxBindingBytes(args.backend as WebGPUBackend))
    : undefined;
  const epilogue = shape && fusedEpilogue(attrs, shape.n, bias, preluActivationWeights);
  const out = shape && epilogue && runMatMul(args.backend as WebGPUBackend, a!, b!, shape, epilogue, bias);
  if (!out) return original('_FusedMatMul', args);
  matMulStats.fast++;
  return out;
}

const overrides: [string, tf.KernelFunc][] = [
  ['BatchMatMul', batchMatMul as tf.KernelFunc],
  ['_FusedMatMul', fusedMatMul as tf.KernelFunc],
];

/**
 * Puts the register-tiled matmul in front of tfjs-backend-webgpu's BatchMatMul and
 * _FusedMatMul (idempotent). Products it does not take (small, int, prelu, odd
 * broadcasts) still run tfjs's programs. Gradients need nothing: tfjs differentiates
 * both kernels into more BatchMatMul calls, which come here too.
 */
export function registerMatMulKernels(): void {
  for (const [name, func] of overrides) {
    const current = tf.getKernel(name, BACKEND);
    if (current?.kernelFunc === func) continue;
    if (current) {
      originals.set(name, current.kernelFunc);
      tf.unregisterKernel(name, BACKEND);
    }
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: func });
  }
}
