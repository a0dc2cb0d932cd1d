import { ShiftmixError, tf, type Mixer, type MixerState, type Tensor } from '@shiftmix/core';
import { type StateEntry } from '@shiftmix/core/text';
import type { ElemType } from './onnx-proto.js';

export type { StateEntry };

const ELEM_OF_DTYPE: Record<string, ElemType> = { float32: 'float32', int32: 'int32', bool: 'bool' };

function disposeState(state: MixerState, keep?: MixerState): void {
  const kept = new Set(keep ? Object.values(keep.tensors) : []);
  for (const t of Object.values(state.tensors)) if (!kept.has(t) && !t.isDisposed) t.dispose();
}

/**
 * Reads a mixer's decode state layout from the mixer itself: `initState(1)` and
 * `initState(2)` tell the batch axis, one `step` tells which axes grow (a KV cache),
 * so the ONNX state tensors have the names and shapes of the tfjs ones.
 */
export function describeMixerState(mixer: Mixer, layer: number, mixerName: string, dim: number): StateEntry[] {
  const one = mixer.initState(1);
  const two = mixer.initState(2);
  let stepped: { y: Tensor; state: MixerState } | undefined;
  try {
    const u = tf.zeros([1, dim]) as tf.Tensor2D;
    try {
      stepped = mixer.step(u, one);
    } finally {
      u.dispose();
    }
    const next = stepped.state.tensors;
    return Object.entries(one.tensors).map(([key, t]) => describeTensor(key, t, two.tensors[key], next[key], layer, mixerName));
  } finally {
    if (stepped) {
      stepped.y.dispose();
      disposeState(stepped.state, one);
    }
    disposeState(one);
    disposeState(two);
  }
}

function describeTensor(key: string, one: Tensor, two: Tensor | undefined, next: Tensor | undefined, layer: number, mixer: string): StateEntry {
  const name = `blocks.${layer}.${key}`;
  const where = `mixer "${mixer}" (block ${layer}), state tensor "${key}"`;
  if (!two || !next) {
    throw new ShiftmixError(
      `${where} is missing from initState(2) or from the state step() returns`,
      'A mixer must keep the same state tensor names in every state',
      'E_ONNX_STATE',
    );
  }
  const dtype = ELEM_OF_DTYPE[one.dtype];
  if (!dtype) throw new ShiftmixError(`${where} has dtype ${one.dtype}`, 'Keep decode state in float32, int32 or bool tensors', 'E_ONNX_STATE');
  const batchAxes = one.shape.map((n, i) => (n === 1 && two.shape[i] === 2 ? i : -1)).filter((i) => i >= 0);
  if (one.rank !== two.rank || one.rank !== next.rank || batchAxes.length !== 1 || one.shape.some((n, i) => i !== batchAxes[0] && n !== two.shape[i])) {
    throw new ShiftmixError(
      `${where} has no single batch axis: initState(1) gives [${one.shape.join(', ')}], initState(2) [${two.shape.join(', ')}]`,
      'Give each state tensor exactly one axis of size batch (the first, by convention)',
      'E_ONNX_STATE',
    );
  }
  const batchAxis = batchAxes[0];
  const growing = one.shape.map((n, i) => i !== batchAxis && n !== next.shape[i]);
  return {
    name,
    layer,
    mixer,
    tensor: key,
    input: `state.${name}`,
    output: `next_state.${name}`,
    dtype,
    shape: one.shape.map((n, i) => (i === batchAxis ? 'batch' : growing[i] ? `${name}.length` : n)),
    outputShape: one.shape.map((n, i) => (i === batchAxis ? 'batch' : growing[i] ? `${name}.next_length` : n)),
    initialShape: [...one.shape],
    batchAxis,
  };
}
