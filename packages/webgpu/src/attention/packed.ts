import { ShiftmixError, tf } from '@shiftmix/core';
import { keepForGradient, PACKED_ATTENTION, PACKED_ATTENTION_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { launchOf, runBackward, runForward } from './run.js';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** [B, H, T, hd] of a packed call, after checking qkv [B, T, 3D] and the [B, T, D] tensors. */
function packedShape(kernel: string, qkv: TensorInfo, rows: Record<string, TensorInfo>, attrs: tf.NamedAttrMap | undefined): number[] {
  const heads = Number(attrs?.heads);
  const [b, t, c] = qkv.shape;
  const d = c / 3;
  const bad =
    qkv.shape.length !== 3 ||
    !(Number.isInteger(heads) && heads >= 1) ||
    c % (3 * heads) !== 0 ||
    [qkv, ...Object.values(rows)].some((x) => x.dtype !== 'float32') ||
    Object.values(rows).some((x) => !tf.util.arraysEqual(x.shape, [b, t, d]));
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 qkv [B, T, 3D] (D a multiple of heads ${attrs?.heads})${Object.keys(rows)
        .map((n) => ` and ${n} [B, T, D]`)
        .join('')}, got ${JSON.stringify([qkv, ...Object.values(rows)].map((x) => x.shape))}`,
      'Pass the fused projection [q | k | v] and a head count that divides D',
      'E_SHAPE',
    );
  }
  return [b, heads, t, d / heads];
}

/** Attention straight from the packed projection: qkv [B, T, 3D] -> O [B, T, D], heads merged. */
export function attentionPackedForward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { qkv } = inputs as Record<string, TensorInfo>;
  const shape = packedShape(PACKED_ATTENTION.name, qkv, {}, attrs);
  const be = backend as WebGPUBackend;
  const outShape = [shape[0], shape[2], shape[1] * shape[3]];
  if (tf.util.sizeFromShape(shape) === 0) return be.makeTensorInfo(outShape, 'float32', new Float32Array(0));
  const [o, lse] = runForward(be, launchOf(be, shape, true, attrs), [qkv], outShape);
  keepForGradient(o, lse, () => be.disposeData(lse.dataId));
  return o;
}

/** dqkv [B, T, 3D]: the dK/dV program writes channels [D, 3D), the dQ program [0, D). */
export function attentionPackedBackward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, qkv, o } = inputs as Record<string, TensorInfo>;
  const shape = packedShape(PACKED_ATTENTION_GRAD.name, qkv, { dy, o }, attrs);
  const be = backend as WebGPUBackend;
  if (tf.util.sizeFromShape(shape) === 0) return be.makeTensorInfo(qkv.shape, 'float32', new Float32Array(0));
  const launch = launchOf(be, shape, true, attrs);
  // Without a saved logsumexp (a gradient of a run outside the tape) the forward recomputes it.
  const given = inputs.lse as TensorInfo | undefined;
  const recomputed = given ? undefined : runForward(be, launch, [qkv], o.shape);
  const dqkv = be.makeTensorInfo(qkv.shape, 'float32');
  runBackward(be, launch, [qkv], dy, o, given ?? recomputed![1], { keyGrad: [dqkv], queryGrad: [dqkv] });
  if (recomputed) recomputed.forEach((t) => be.disposeData(t.dataId));
  return dqkv;
}
