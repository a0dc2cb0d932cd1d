import { tf } from '../tf.js';

// The wasm backend's heap API, which tfjs does not export as a type.
interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] == s. Reference
 * semantics of tf.unsortedSegmentSum; ids outside [0, numSegments) are dropped.
 */
export function unsortedSegmentSumReference(
  x: ArrayLike<number>,
  xShape: number[],
  segmentIds: ArrayLike<number>,
  numSegments: number,
): Float32Array {
  const rows = segmentIds.length;
  const inner = xShape.slice(segmentIdsRank(xShape, rows)).reduce((a, b) => a * b, 1);
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < rows; i++) {
    const s = segmentIds[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
  return out;
}

// segmentIds covers the leading axes of x whose sizes multiply to its length.
function segmentIdsRank(xShape: number[], rows: number): number {
  let product = 1;
  for (let axis = 0; axis < xShape.length; axis++) {
    if (product === rows) return axis;
    product *= xShape[axis];
  }
  return xShape.length;
}

let registered = false;

/**
 * Kernels the tfjs wasm backend lacks but training needs: UnsortedSegmentSum backs the
 * gradient of gather (the token embedding). Computed on the wasm heap's data in JS.
 */
export function registerMissingWasmKernels(): void {
  if (registered || tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmBackendLike;
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const values = wasm.readSync(x.dataId);
      const ids = wasm.readSync(segmentIds.dataId);
      const rank = segmentIdsRank(x.shape, ids.length);
      const summed = unsortedSegmentSumReference(values, x.shape, ids, numSegments);
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(rank)], x.dtype);
      const heap = wasm.typedArrayFromHeap(out);
      heap.set(x.dtype === 'int32' ? Int32Array.from(summed) : summed);
      return out;
    },
  });
}
