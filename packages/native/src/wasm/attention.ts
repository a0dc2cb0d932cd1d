import { ShiftmixError, tf } from '@shiftmix/core';
import { ATTENTION, ATTENTION_GRAD, keepForGradient, PACKED_ATTENTION, PACKED_ATTENTION_GRAD } from '@shiftmix/core/kernels';
import type { NativeKernels } from '../addon.js';
import { heapViews, withNative, type KernelArgs, type WasmBackend } from './heap.js';

// Fused causal attention under wasm, in both layouts, with the backward kernels.

declare module '../addon.js' {
  interface NativeKernels {
    /**
     * Causal attention. The 15 numbers: batch, heads, length, headDim, scale, window (0: full),
     * dropoutRate, seed, then the strides (batch, head, row) of q/k/v and of out, and threads
     * (1: this thread only; else the pool's).
     */
    attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, ...params: number[]): void;
    /** Gradients of attentionForward; lse null recomputes it. Same 15 numbers. */
    attentionBackward(
      q: Float32Array,
      k: Float32Array,
      v: Float32Array,
      out: Float32Array,
      dOut: Float32Array,
      lse: Float32Array | null,
      dq: Float32Array,
      dk: Float32Array,
      dv: Float32Array,
      ...params: number[]
    ): void;
  }
}

type TensorInfo = tf.TensorInfo;

// Heads run on the pool's threads (0 in the call), which the backend's `threads` sizes.
const POOL = 0;

interface AttentionAttrs {
  window: number;
  dropoutRate: number;
  seed: number;
  scale: number;
  heads?: number;
}

// The 15 numbers of a native attention call: sizes, options, then the q/k/v and out strides.
function attentionParams(shape: number[], attrs: AttentionAttrs, inStrides: number[], outStrides: number[], threads: number): number[] {
  const [batch, heads, length, headDim] = shape;
  const rate = Number(attrs.dropoutRate ?? 0);
  const window = Number(attrs.window ?? 0);
  if (!(rate >= 0 && rate < 1) || !(Number.isInteger(window) && window >= 0)) {
    throw new ShiftmixError(
      `fused attention got dropoutRate ${rate}, window ${window}`,
      'Use 0 <= dropoutRate < 1 and a whole window >= 0 (0: full)',
      'E_CONFIG',
    );
  }
  const seed = Math.floor(Number(attrs.seed ?? 0)) | 0;
  return [batch, heads, length, headDim, Number(attrs.scale), window, rate, seed, ...inStrides, ...outStrides, threads];
}

/** [B, H, T, hd] of a packed call: qkv [B, T, 3D], heads from the attributes. */
function packedShape(qkv: TensorInfo, attrs: AttentionAttrs): number[] {
  const heads = Number(attrs.heads);
  const [b, t, c] = qkv.shape;
  if (qkv.shape.length !== 3 || !(Number.isInteger(heads) && heads >= 1) || c % (3 * heads) !== 0) {
    throw new ShiftmixError(
      `${PACKED_ATTENTION.name} needs qkv [B, T, 3D] with D a multiple of ${attrs.heads} heads, got ${JSON.stringify(qkv.shape)}`,
      'Pass the fused projection [q | k | v] and a head count that divides D',
      'E_SHAPE',
    );
  }
  return [b, heads, t, c / 3 / heads];
}

/** Implements the attention kernels on the wasm heap through the native code, both layouts, with their backward kernels. */
function implementAttention(native: NativeKernels): void {
  // Strides (batch, head, row) of the two layouts.
  const split = ([, h, t, hd]: number[]): number[] => [h * t * hd, t * hd, hd];
  const packed = ([, , t, hd]: number[], width: number): number[] => [t * width, hd, width];
  const lseOf = (wasm: WasmBackend, o: TensorInfo, lse: TensorInfo): void => keepForGradient(o, lse, () => wasm.disposeData(lse.dataId));

  const forward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { q, k, v } = inputs as Record<string, TensorInfo>;
    const wasm = backend as WasmBackend;
    const shape = q.shape;
    const params = attentionParams(shape, attrs as unknown as AttentionAttrs, split(shape), split(shape), POOL);
    const o = wasm.makeOutput(shape, 'float32');
    const lse = wasm.makeOutput(shape.slice(0, 3), 'float32');
    const [qv, kv, vv, ov, lv] = heapViews(wasm, q, k, v, o, lse);
    native.attentionForward(qv, kv, vv, ov, lv, ...params);
    lseOf(wasm, o, lse);
    return o;
  };
  const backward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, q, k, v, o, lse } = inputs as Record<string, TensorInfo>;
    const wasm = backend as WasmBackend;
    const shape = q.shape;
    const params = attentionParams(shape, attrs as unknown as AttentionAttrs, split(shape), split(shape), POOL);
    const grads = [0, 1, 2].map(() => wasm.makeOutput(shape, 'float32'));
    const [qv, kv, vv, ov, dyv, ...gv] = heapViews(wasm, q, k, v, o, dy, ...grads);
    const lv = lse ? heapViews(wasm, lse)[0] : null;
    native.attentionBackward(qv, kv, vv, ov, dyv, lv, gv[0], gv[1], gv[2], ...params);
    return grads;
  };
  const packedForward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { qkv } = inputs as Record<string, TensorInfo>;
    const wasm = backend as WasmBackend;
    const shape = packedShape(qkv, attrs as unknown as AttentionAttrs);
    const [b, h, t, hd] = shape;
    const d = h * hd;
    const params = attentionParams(shape, attrs as unknown as AttentionAttrs, packed(shape, 3 * d), packed(shape, d), POOL);
    const o = wasm.makeOutput([b, t, d], 'float32');
    const lse = wasm.makeOutput([b, h, t], 'float32');
    const [qkvv, ov, lv] = heapViews(wasm, qkv, o, lse);
    native.attentionForward(qkvv, qkvv.subarray(d), qkvv.subarray(2 * d), ov, lv, ...params);
    lseOf(wasm, o, lse);
    return o;
  };
  const packedBackward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, qkv, o, lse } = inputs as Record<string, TensorInfo>;
    const wasm = backend as WasmBackend;
    const shape = packedShape(qkv, attrs as unknown as AttentionAttrs);
    const d = shape[1] * shape[3];
    const params = attentionParams(shape, attrs as unknown as AttentionAttrs, packed(shape, 3 * d), packed(shape, d), POOL);
    const dqkv = wasm.makeOutput(qkv.shape, 'float32');
    const [qkvv, ov, dyv, gv] = heapViews(wasm, qkv, o, dy, dqkv);
    const lv = lse ? heapViews(wasm, lse)[0] : null;
    native.attentionBackward(qkvv, qkvv.subarray(d), qkvv.subarray(2 * d), ov, dyv, lv, gv, gv.subarray(d), gv.subarray(2 * d), ...params);
    return dqkv;
  };
  ATTENTION.implement('wasm', forward);
  ATTENTION_GRAD.implement('wasm', backward);
  PACKED_ATTENTION.implement('wasm', packedForward);
  PACKED_ATTENTION_GRAD.implement('wasm', packedBackward);
}

withNative(implementAttention);
