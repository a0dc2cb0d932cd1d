import { tf } from '@shiftmix/core';
import {
  ADD_LAYER_NORM,
  BIAS_GELU,
  BIAS_GELU_GRAD,
  CROSS_ENTROPY,
  CROSS_ENTROPY_GRAD,
  DROPOUT,
  dropoutScale,
  dropoutSeedKeys,
  dropoutThreshold,
  keepForGradient,
  LAYER_NORM,
  LAYER_NORM_GRAD,
} from '@shiftmix/core/kernels';
import type { NativeKernels } from '../addon.js';
import { heapViews, withNative, type KernelArgs, type WasmBackend } from './heap.js';

// The training step's row and element kernels under wasm: layer norms, bias + GELU,
// dropout and the loss, with their backward kernels.

declare module '../addon.js' {
  interface NativeKernels {
    /** Layer norm of `rows` rows of `dim`; with h (and sum) the row is x + h, written to sum first. */
    layerNormForward(
      x: Float32Array,
      h: Float32Array | null,
      gamma: Float32Array,
      beta: Float32Array,
      sum: Float32Array | null,
      normed: Float32Array,
      rows: number,
      dim: number,
      eps: number,
    ): void;
    /** dx (+ dres), dgamma, dbeta of layer norm at input x. */
    layerNormBackward(
      dy: Float32Array,
      x: Float32Array,
      gamma: Float32Array,
      dres: Float32Array | null,
      dx: Float32Array,
      dgamma: Float32Array,
      dbeta: Float32Array,
      rows: number,
      dim: number,
      eps: number,
    ): void;
    /** y = x * scale where the project's dropout hash of (keys, index) >= threshold, else 0 (see core's dropoutHash). */
    dropout(x: Float32Array, y: Float32Array, key1: number, key2: number, threshold: number, scale: number): void;
    /** y = gelu(x + b), tanh form, b one entry per column. */
    biasGeluForward(x: Float32Array, b: Float32Array, y: Float32Array, rows: number, dim: number): void;
    biasGeluBackward(dy: Float32Array, x: Float32Array, b: Float32Array, dx: Float32Array, db: Float32Array, rows: number, dim: number): void;
    /** Mean cross-entropy over rows with 0 <= target < vocab (NaN if a target >= vocab); fills lse [rows]. */
    crossEntropyForward(logits: Float32Array, targets: Int32Array, lse: Float32Array, rows: number, vocab: number): number;
    crossEntropyBackward(dy: number, logits: Float32Array, targets: Int32Array, lse: Float32Array, dlogits: Float32Array, rows: number, vocab: number): void;
  }
}

type TensorInfo = tf.TensorInfo;
type Named = Record<string, TensorInfo>;

// [rows, dim] of a tensor over its last axis.
function rowsOf(x: TensorInfo): [number, number] {
  const dim = x.shape[x.shape.length - 1] ?? 1;
  return [dim === 0 ? 0 : tf.util.sizeFromShape(x.shape) / dim, dim];
}

const epsOf = (attrs: tf.NamedAttrMap | undefined): number => Number(attrs?.eps ?? 1e-5);
const intView = (wasm: WasmBackend, info: TensorInfo) => wasm.typedArrayFromHeap(info) as Int32Array;
const scalarOf = (wasm: WasmBackend, info: TensorInfo) => (wasm.typedArrayFromHeap(info) as Float32Array)[0];

/** Layer norm, its fused residual form and their one backward, as native row loops. */
function implementLayerNorm(native: NativeKernels): void {
  const forward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, gamma, beta } = inputs as Named;
    const wasm = backend as WasmBackend;
    const normed = wasm.makeOutput(x.shape, 'float32');
    const [xv, gv, bv, nv] = heapViews(wasm, x, gamma, beta, normed);
    native.layerNormForward(xv, null, gv, bv, null, nv, ...rowsOf(x), epsOf(attrs));
    return normed;
  };
  const addForward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, h, gamma, beta } = inputs as Named;
    const wasm = backend as WasmBackend;
    const [sum, normed] = [0, 1].map(() => wasm.makeOutput(x.shape, 'float32'));
    const [xv, hv, gv, bv, sv, nv] = heapViews(wasm, x, h, gamma, beta, sum, normed);
    native.layerNormForward(xv, hv, gv, bv, sv, nv, ...rowsOf(x), epsOf(attrs));
    return [sum, normed];
  };
  const backward: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, x, gamma, dres } = inputs as Named;
    const wasm = backend as WasmBackend;
    const dx = wasm.makeOutput(x.shape, 'float32');
    const [dgamma, dbeta] = [0, 1].map(() => wasm.makeOutput(gamma.shape, 'float32'));
    const [dyv, xv, gv, dxv, dgv, dbv] = heapViews(wasm, dy, x, gamma, dx, dgamma, dbeta);
    const dresv = dres ? heapViews(wasm, dres)[0] : null;
    native.layerNormBackward(dyv, xv, gv, dresv, dxv, dgv, dbv, ...rowsOf(x), epsOf(attrs));
    return [dx, dgamma, dbeta];
  };
  LAYER_NORM.implement('wasm', forward);
  ADD_LAYER_NORM.implement('wasm', addForward);
  LAYER_NORM_GRAD.implement('wasm', backward);
}

/** gelu(x + b) and its backward. */
function implementBiasGelu(native: NativeKernels): void {
  const forward: tf.KernelFunc = (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { x, b } = inputs as Named;
    const wasm = backend as WasmBackend;
    const y = wasm.makeOutput(x.shape, 'float32');
    const [xv, bv, yv] = heapViews(wasm, x, b, y);
    native.biasGeluForward(xv, bv, yv, ...rowsOf(x));
    return y;
  };
  const backward: tf.KernelFunc = (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { dy, x, b } = inputs as Named;
    const wasm = backend as WasmBackend;
    const dx = wasm.makeOutput(x.shape, 'float32');
    const db = wasm.makeOutput(b.shape, 'float32');
    const [dyv, xv, bv, dxv, dbv] = heapViews(wasm, dy, x, b, dx, db);
    native.biasGeluBackward(dyv, xv, bv, dxv, dbv, ...rowsOf(x));
    return [dx, db];
  };
  BIAS_GELU.implement('wasm', forward);
  BIAS_GELU_GRAD.implement('wasm', backward);
}

/** Dropout by the project's hash of (seed, index): the webgpu kernel's mask; its own gradient (same mask on dy). */
function implementDropout(native: NativeKernels): void {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x } = inputs as Named;
    const { rate, seed } = attrs as unknown as { rate: number; seed: number };
    const wasm = backend as WasmBackend;
    const y = wasm.makeOutput(x.shape, 'float32');
    const [xv, yv] = heapViews(wasm, x, y);
    const [key1, key2] = dropoutSeedKeys(seed);
    native.dropout(xv, yv, key1, key2, dropoutThreshold(rate), dropoutScale(rate));
    return y;
  };
  DROPOUT.implement('wasm', kernelFunc);
}

/** The loss; each row's log-sum-exp travels to the backward beside the scalar. */
function implementCrossEntropy(native: NativeKernels): void {
  const lseOf = (wasm: WasmBackend, logits: TensorInfo, targets: TensorInfo): [TensorInfo, number] => {
    const [rows, vocab] = logits.shape;
    const lse = wasm.makeOutput([rows], 'float32');
    const [lv, lsev] = heapViews(wasm, logits, lse);
    return [lse, native.crossEntropyForward(lv, intView(wasm, targets), lsev, rows, vocab)];
  };
  const forward: tf.KernelFunc = (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { logits, targets } = inputs as Named;
    const wasm = backend as WasmBackend;
    const loss = wasm.makeOutput([], 'float32');
    const [lse, value] = lseOf(wasm, logits, targets);
    heapViews(wasm, loss)[0][0] = value;
    keepForGradient(loss, lse, () => wasm.disposeData(lse.dataId));
    return loss;
  };
  const backward: tf.KernelFunc = (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { dy, logits, targets, stats } = inputs as Named;
    const wasm = backend as WasmBackend;
    const [rows, vocab] = logits.shape;
    const recomputed = stats ? undefined : lseOf(wasm, logits, targets)[0];
    const dlogits = wasm.makeOutput(logits.shape, 'float32');
    const [lv, sv, dv] = heapViews(wasm, logits, stats ?? recomputed!, dlogits);
    native.crossEntropyBackward(scalarOf(wasm, dy), lv, intView(wasm, targets), sv, dv, rows, vocab);
    if (recomputed) wasm.disposeData(recomputed.dataId);
    return dlogits;
  };
  CROSS_ENTROPY.implement('wasm', forward);
  CROSS_ENTROPY_GRAD.implement('wasm', backward);
}

// Implemented on import, where the addon is built.
withNative((native) => {
  implementLayerNorm(native);
  implementBiasGelu(native);
  implementCrossEntropy(native);
  implementDropout(native);
});
