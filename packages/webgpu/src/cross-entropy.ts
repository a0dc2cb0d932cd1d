import { ShiftmixError, tf } from '@shiftmix/core';
import { CROSS_ENTROPY, CROSS_ENTROPY_GRAD, keepForGradient } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { CrossEntropyGradProgram, CrossEntropyMeanProgram, CrossEntropyRowsProgram, rowWorkgroup } from './cross-entropy-programs.js';
import { WEBGPU_BACKEND, runProgram } from './runtime.js';

// Fused language-model loss: inputs {logits [N, V] float32, targets [N] int32}, output the
// scalar mean of -log softmax(logits)[n, targets[n]] over rows with 0 <= target < V,
// divided by max(count, 1); rows with target < 0 are ignored and a target >= V makes the
// loss NaN (core's crossEntropy documents the contract and dispatches to it).
// Its backward (core's name): inputs {dy [], logits, targets, stats? [3N + 1]}, output [dlogits].

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function checkInputs(kernel: string, logits: TensorInfo, targets: TensorInfo, dy?: TensorInfo): [number, number] {
  const bad =
    logits?.shape.length !== 2 ||
    logits.dtype !== 'float32' ||
    targets?.shape.length !== 1 ||
    targets.dtype !== 'int32' ||
    targets.shape[0] !== logits.shape[0] ||
    (dy !== undefined && (dy.shape.length !== 0 || dy.dtype !== 'float32'));
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 logits [N, V] and int32 targets [N]${dy ? ' and a scalar dy' : ''}, got logits ${JSON.stringify(logits?.shape)} ${logits?.dtype}, targets ${JSON.stringify(targets?.shape)} ${targets?.dtype}`,
      "Call core's crossEntropy(logits.reshape([-1, V]), targets.reshape([-1]))",
      'E_SHAPE',
    );
  }
  return logits.shape as [number, number];
}

/** Runs both forward passes; returns the loss and the stats the backward reads. */
function forward(be: WebGPUBackend, logits: TensorInfo, targets: TensorInfo): [TensorInfo, TensorInfo] {
  const [rows, vocab] = logits.shape;
  const stats = be.makeTensorInfo([3 * rows + 1], 'float32');
  const loss = be.makeTensorInfo([], 'float32');
  if (vocab > 0) runProgram(be, new CrossEntropyRowsProgram(rows, rowWorkgroup(vocab)), [logits, targets], [stats], [rows, vocab]);
  runProgram(be, new CrossEntropyMeanProgram(), [targets], [loss, stats], [rows, vocab]);
  return [loss, stats];
}

export function crossEntropyForward({ inputs, backend }: KernelArgs): TensorInfo {
  const { logits, targets } = inputs as Record<string, TensorInfo>;
  checkInputs(CROSS_ENTROPY.name, logits, targets);
  const be = backend as WebGPUBackend;
  const [loss, stats] = forward(be, logits, targets);
  // The stats travel beside the scalar output to the backward (core's gradient takes them).
  keepForGradient(loss, stats, () => be.disposeData(stats.dataId));
  return loss;
}

export function crossEntropyBackward({ inputs, backend }: KernelArgs): TensorInfo {
  const { dy, logits, targets } = inputs as Record<string, TensorInfo>;
  const [rows, vocab] = checkInputs(CROSS_ENTROPY_GRAD.name, logits, targets, dy);
  const be = backend as WebGPUBackend;
  if (rows * vocab === 0) return be.makeTensorInfo(logits.shape, 'float32', new Float32Array(0));
  // Without saved stats (a gradient of a run outside the tape) the forward recomputes them.
  const given = inputs.stats as TensorInfo | undefined;
  const recomputed = given ? undefined : forward(be, logits, targets);
  const stats = given ?? recomputed![1];
  const dx = be.makeTensorInfo(logits.shape, 'float32');
  runProgram(be, new CrossEntropyGradProgram(rows, rowWorkgroup(vocab)), [dy, logits, targets, stats], [dx], [rows, vocab]);
  if (recomputed) recomputed.forEach((t) => be.disposeData(t.dataId));
  return dx;
}

CROSS_ENTROPY.implement(WEBGPU_BACKEND, crossEntropyForward as unknown as tf.KernelFunc);
CROSS_ENTROPY_GRAD.implement(WEBGPU_BACKEND, crossEntropyBackward as unknown as tf.KernelFunc);
