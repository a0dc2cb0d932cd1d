import { tf } from '@shiftmix/core';
import type { NativeKernels } from '../addon.js';
import { floatView, type KernelArgs, type WasmBackend } from './heap.js';

// tfjs's wasm kernels that move rows, replaced by native copies on the heap: Slice (tfjs's
// reads the whole input out of the heap for every slice), SplitV (concat's gradient, a
// slice per piece), Concat (a JS copy per row and input) and UnsortedSegmentSum (the
// embedding's gradient, which core adds in JS from copies of its inputs).

declare module '../addon.js' {
  interface NativeKernels {
    /** dst[dstOffset + r * dstStride + i] = src[srcOffset + r * srcStride + i] for r < rows, i < rowLength. */
    copyRows(
      src: Float32Array,
      srcOffset: number,
      srcStride: number,
      dst: Float32Array,
      dstOffset: number,
      dstStride: number,
      rows: number,
      rowLength: number,
    ): void;
    /** out [segments, inner] = the rows of x [rows, inner] added into row ids[i] (ids outside the table skipped). */
    segmentSumRows(x: Float32Array, ids: Int32Array, out: Float32Array, rows: number, inner: number, segments: number): void;
  }
}

type TensorInfo = tf.TensorInfo;

// Tensors whose elements are 4 bytes: copies move their bits through float views.
const copyable = (x: TensorInfo) => x.dtype === 'float32' || x.dtype === 'int32';

// x[start : start + extent]. Past the last axis k that is cut, every axis is whole, so a
// run of extent[k] of axis k is contiguous in x and in the output: one strided copy takes
// the runs along axis k - 1, and the axes above it are counted like an odometer.
function sliceOf(native: NativeKernels, wasm: WasmBackend, x: TensorInfo, start: number[], extent: number[]): TensorInfo {
  const out = wasm.makeOutput(extent, x.dtype);
  if (tf.util.sizeFromShape(extent) === 0) return out;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  let k = x.shape.length - 1;
  while (k > 0 && start[k] === 0 && extent[k] === x.shape[k]) k--;
  const run = extent[k] * strides[k];
  const rows = k > 0 ? extent[k - 1] : 1;
  const rowStride = k > 0 ? strides[k - 1] : run;
  const source = floatView(wasm, x);
  const target = floatView(wasm, out);
  const above = Math.max(0, k - 1);
  const at = new Array<number>(above).fill(0);
  const blocks = tf.util.sizeFromShape(extent.slice(0, above));
  const base = start[k] * strides[k] + (k > 0 ? start[k - 1] * strides[k - 1] : 0);
  for (let block = 0; block < blocks; block++) {
    let offset = base;
    for (let d = 0; d < above; d++) offset += (start[d] + at[d]) * strides[d];
    native.copyRows(source, offset, rowStride, target, block * rows * run, run, rows, run);
    for (let d = above - 1; d >= 0 && ++at[d] === extent[d]; d--) at[d] = 0;
  }
  return out;
}

function nativeSlice(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x } = inputs as { x: TensorInfo };
    const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
    if (!copyable(x) || x.shape.length === 0) return fallback(args);
    const [start, extent] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
    return sliceOf(native, backend as WasmBackend, x, start, extent);
  };
}

function nativeSplit(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x } = inputs as { x: TensorInfo };
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    if (!copyable(x) || x.shape.length === 0) return fallback(args);
    const dim = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, numOrSizeSplits, dim);
    const start = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const extent = [...x.shape];
      extent[dim] = n;
      const piece = sliceOf(native, backend as WasmBackend, x, start, extent);
      start[dim] += n;
      return piece;
    });
  };
}

/** Concat along any axis: each input is one strided copy into its columns of the output. */
function nativeConcat(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
    const { axis } = attrs as unknown as { axis: number };
    if (list.length === 0 || !list.every((t) => t.dtype === list[0].dtype && copyable(t))) return fallback(args);
    const dim = tf.util.parseAxisParam(axis, list[0].shape)[0];
    const shapes = list.map((t) => t.shape);
    tf.backend_util.assertParamsConsistent(shapes, dim);
    const outShape = tf.backend_util.computeOutShape(shapes, dim);
    const wasm = backend as WasmBackend;
    const out = wasm.makeOutput(outShape, list[0].dtype);
    const rows = tf.util.sizeFromShape(outShape.slice(0, dim));
    const width = tf.util.sizeFromShape(outShape.slice(dim));
    if (rows * width === 0) return out;
    const target = floatView(wasm, out);
    let column = 0;
    for (const t of list) {
      const inner = tf.util.sizeFromShape(t.shape.slice(dim));
      if (inner > 0) native.copyRows(floatView(wasm, t), 0, inner, target, column, width, rows, inner);
      column += inner;
    }
    return out;
  };
}

/** The embedding's gradient: float rows added into a table by int32 id, on the heap. */
function nativeSegmentSum(native: NativeKernels, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    // Segment ids over the leading axes of x; anything else is tfjs's (or core's) case.
    const lead = segmentIds.shape.length;
    const leads = tf.util.arraysEqual(x.shape.slice(0, lead), segmentIds.shape) && x.shape.length > lead;
    if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || !leads) return fallback(args);
    const inner = tf.util.sizeFromShape(x.shape.slice(lead));
    const wasm = backend as WasmBackend;
    const out = wasm.makeOutput([numSegments, ...x.shape.slice(lead)], 'float32');
    if (inner === 0 || numSegments === 0) return out;
    const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
    native.segmentSumRows(floatView(wasm, x), ids, floatView(wasm, out), rows, inner, numSegments);
    return out;
  };
}

/** The row kernels' replacements, for replaced.ts's list. */
export function rowReplacements(native: NativeKernels): [string, (fallback: tf.KernelFunc) => tf.KernelFunc][] {
  return [
    ['Slice', (f) => nativeSlice(native, f)],
    ['SplitV', (f) => nativeSplit(native, f)],
    ['Concat', (f) => nativeConcat(native, f)],
    ['UnsortedSegmentSum', (f) => nativeSegmentSum(native, f)],
  ];
}
