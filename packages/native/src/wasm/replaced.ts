import { ShiftmixError, tf } from '@shiftmix/core';
import type { NativeKernels } from '../addon.js';
import { heapViews, type KernelArgs, type WasmBackend } from './heap.js';
import { rowReplacements } from './rows.js';

// tfjs's own wasm kernels that training leans on and that are slow where it uses them
// (or copy where sharing is enough), replaced for the cases training needs; every other
// case goes to the original kernel.

declare module '../addon.js' {
  interface NativeKernels {
    /** out[c] = the sum of column c of x [rows, cols]. */
    columnSums(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  }
}

type TensorInfo = tf.TensorInfo;

/**
 * BatchMatMul through the native GEMM (the system BLAS): transposes are strides, not
 * copies, and a batch of one on either side is broadcast. Anything else (int32, batch
 * shapes that broadcast otherwise) goes to `fallback`, tfjs's own kernel.
 */
function nativeMatMul(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const sameBatch = batchA === batchB || batchA === 1 || batchB === 1;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || k !== kb || !sameBatch) return fallback(args);
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const wasm = backend as WasmBackend;
    const out = wasm.makeOutput([...outer, m, n], 'float32');
    const [av, bv, cv] = heapViews(wasm, a, b, out);
    const batch = Math.max(batchA, batchB);
    native.gemm(av, bv, cv, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, batch, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, m * n, 1, 0);
    return out;
  };
}

/**
 * Sum over leading axes (a bias's gradient: [rows, C] -> [C]) as native column sums;
 * tfjs transposes the input first to reduce anything but the innermost axes.
 */
function columnSum(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x } = inputs as { x: TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return fallback(args);
    const kept = x.shape.slice(axes.length);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const cols = tf.util.sizeFromShape(kept);
    const wasm = backend as WasmBackend;
    const out = wasm.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const [xv, ov] = heapViews(wasm, x, out);
    native.columnSums(xv, ov, rows, cols);
    return out;
  };
}

/**
 * Rows of a table by index (the token embedding: gather on axis 0) as copies of whole
 * rows on the heap, after the same bounds check as tfjs's.
 */
function gatherRows(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    const axis0 = tf.util.parseAxisParam(axis, x.shape)[0] === 0 && !batchDims;
    if (!axis0 || indices.dtype !== 'int32' || x.shape.length < 1) return fallback(args);
    const wasm = backend as WasmBackend;
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const count = tf.util.sizeFromShape(indices.shape);
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const table = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    const target = wasm.typedArrayFromHeap(out);
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < x.shape[0])) {
        wasm.disposeData(out.dataId);
        throw new ShiftmixError(
          `gather: index ${id} is outside the table of ${x.shape[0]} rows`,
          'Check that the token ids come from the tokenizer the model was built with',
          'E_INPUT',
        );
      }
      target.set(table.subarray(id * rowSize, (id + 1) * rowSize), i * rowSize);
    }
    return out;
  };
}

/**
 * The tape's copy of every tensor a gradient saves, shared instead of copied (as the cpu
 * and webgpu backends do): tensors are immutable, and the one kernel that writes in place
 * (AdamW) refuses a buffer with more than one reference.
 */
function sharedIdentity(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype === 'string') return fallback(args);
    (backend as WasmBackend & { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/**
 * Replaces tfjs's BatchMatMul, Sum, GatherV2 and Identity on wasm, and the kernels that
 * move rows (rows.ts); each keeps the original for the cases it leaves.
 */
export function replaceWasmKernels(native: NativeKernels): void {
  const replacements: [string, (fallback: tf.KernelFunc) => tf.KernelFunc][] = [
    ['BatchMatMul', (f) => nativeMatMul(native, f)],
    ['Sum', (f) => columnSum(native, f)],
    ['GatherV2', (f) => gatherRows(f)],
    ['Identity', (f) => sharedIdentity(f)],
    ...rowReplacements(native),
  ];
  for (const [name, replace] of replacements) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: replace(original.kernelFunc) });
  }
}
