import { ShiftmixError, tf } from '@shiftmix/core';
import {
  ADAMW,
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
import { heapViews, type KernelArgs, type WasmBackend, type WasmImplementation } from './heap.js';

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
function layerNormKernels(native: NativeKernels): WasmImplementation[] {
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
  return [
    [LAYER_NORM, forward],
    [ADD_LAYER_NORM, addForward],
    [LAYER_NORM_GRAD, backward],
  ];
}

/** gelu(x + b) and its backward. */
function biasGeluKernels(native: NativeKernels): WasmImplementation[] {
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
  return [
    [BIAS_GELU, forward],
    [BIAS_GELU_GRAD, backward],
  ];
}

/** Dropout by the project's hash of (seed, index): the webgpu kernel's mask; its own gradient (same mask on dy). */
function dropoutKernel(native: NativeKernels): WasmImplementation {
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
  return [DROPOUT, kernelFunc];
}

/** The loss; each row's log-sum-exp travels to the backward beside the scalar. */
function crossEntropyKernels(native: NativeKernels): WasmImplementation[] {
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
  return [
    [CROSS_ENTROPY, forward],
    [CROSS_ENTROPY_GRAD, backward],
  ];
}

interface RefCounted {
  dataIdMap: { get(dataId: object): { refCount: number } };
}

/** Clip and AdamW over every weight in one native call, in place on the heap (core's ADAMW contract). */
function adamwKernel(native: NativeKernels): WasmImplementation {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const named = inputs as Named;
    const a = (attrs ?? {}) as Record<string, number & number[]>;
    const count = Number(a.count);
    const wasm = backend as WasmBackend;
    const weights = Array.from({ length: count }, (_, i) => ['p', 'm', 'v', 'g'].map((k) => named[`${k}${i}`]));
    const bad = weights.some((w) => w.some((x) => !x || x.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, w[0].shape)));
    if (!(count >= 1) || bad || !named.halt || !named.loss) {
      throw new ShiftmixError(
        `${ADAMW.name} needs p, m, v and g of one float32 shape for each of attrs.count weights, a loss and a halt flag`,
        "Run it through core's AdamW.clipAndApply",
        'E_INPUT',
      );
    }
    // Updating in place is only safe where no other tensor shares the buffer.
    const map = (backend as RefCounted).dataIdMap;
    const shared = [...weights.flatMap((w) => w.slice(0, 3)), named.halt].find((x) => map.get(x.dataId).refCount > 1);
    if (shared) {
      throw new ShiftmixError(
        `${ADAMW.name} would update a buffer in place that other tensors share`,
        "Run it through core's AdamW.clipAndApply, which gives every weight and moment its own buffer",
        'E_INPUT',
      );
    }
    const report = wasm.makeOutput([2], 'float32');
    const views = weights.map((w) => heapViews(wasm, ...w));
    const [haltv, reportv] = heapViews(wasm, named.halt, report);
    const column = (k: number) => views.map((w) => w[k]);
    native.adamw(
      column(0),
      column(1),
      column(2),
      column(3),
      a.decays,
      haltv,
      reportv,
      a.lr,
      a.beta1,
      a.beta2,
      a.eps,
      a.weightDecay,
      a.maxNorm,
      scalarOf(wasm, named.loss),
      a.step,
    );
    return report;
  };
  return [ADAMW, kernelFunc];
}

/** The training kernels of @shiftmix/native for the wasm backend: layer norms, bias + GELU, dropout, the loss, AdamW. */
export function nativeTrainingKernels(native: NativeKernels): WasmImplementation[] {
  return [...layerNormKernels(native), ...biasGeluKernels(native), ...crossEntropyKernels(native), dropoutKernel(native), adamwKernel(native)];
}
