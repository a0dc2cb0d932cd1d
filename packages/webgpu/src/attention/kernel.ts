import { ShiftmixError, tf } from '@shiftmix/core';
import { ATTENTION, ATTENTION_GRAD, keepForGradient, PACKED_ATTENTION, PACKED_ATTENTION_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { attentionPackedBackward, attentionPackedForward } from './packed.js';
import { WEBGPU_BACKEND } from '../runtime.js';
import { launchOf, runBackward, runForward } from './run.js';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function checkInputs(kernel: string, tensors: Record<string, TensorInfo | undefined>): [number, number, number, number] {
  const q = tensors.q!;
  const bad = q.shape.length !== 4 || Object.values(tensors).some((t) => t && (!tf.util.arraysEqual(t.shape, q.shape) || t.dtype !== 'float32'));
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 ${Object.keys(tensors).join(', ')} of one shape [B, H, T, hd], got ${JSON.stringify(Object.values(tensors).map((t) => t?.shape))}`,
      'Split the heads first: [B, T, D] -> [B, H, T, hd]',
      'E_SHAPE',
    );
  }
  return q.shape as [number, number, number, number];
}

export function attentionForward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { q, k, v } = inputs as Record<string, TensorInfo>;
  const shape = checkInputs(ATTENTION.name, { q, k, v });
  const be = backend as WebGPUBackend;
  if (tf.util.sizeFromShape(shape) === 0) return be.makeTensorInfo(shape, 'float32', new Float32Array(0));
  const [o, lse] = runForward(be, launchOf(be, shape, false, attrs), [q, k, v], shape);
  keepForGradient(o, lse, () => be.disposeData(lse.dataId));
  return o;
}

export function attentionBackward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { dy, q, k, v, o } = inputs as Record<string, TensorInfo>;
  const shape = checkInputs(ATTENTION_GRAD.name, { q, k, v, o, dy });
  const be = backend as WebGPUBackend;
  if (tf.util.sizeFromShape(shape) === 0) return [q, k, v].map(() => be.makeTensorInfo(shape, 'float32', new Float32Array(0)));
  const launch = launchOf(be, shape, false, attrs);
  // Without a saved logsumexp (a gradient of a run outside the tape) the forward recomputes it.
  const given = inputs.lse as TensorInfo | undefined;
  const recomputed = given ? undefined : runForward(be, launch, [q, k, v], shape);
  const [dq, dk, dv] = [0, 1, 2].map(() => be.makeTensorInfo(shape, 'float32'));
  runBackward(be, launch, [q, k, v], dy, o, given ?? recomputed![1], { keyGrad: [dk, dv], queryGrad: [dq] });
  if (recomputed) recomputed.forEach((t) => be.disposeData(t.dataId));
  return [dq, dk, dv];
}

// Implemented on import: the package's kernels.ts imports this file with the others.
ATTENTION.implement(WEBGPU_BACKEND, attentionForward as unknown as tf.KernelFunc);
ATTENTION_GRAD.implement(WEBGPU_BACKEND, attentionBackward as unknown as tf.KernelFunc);
PACKED_ATTENTION.implement(WEBGPU_BACKEND, attentionPackedForward as unknown as tf.KernelFunc);
PACKED_ATTENTION_GRAD.implement(WEBGPU_BACKEND, attentionPackedBackward as unknown as tf.KernelFunc);
