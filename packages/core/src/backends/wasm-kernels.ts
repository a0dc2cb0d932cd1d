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
  idsRank = segmentIdsRank(xShape, segmentIds.length),
): Float32Array {
  const rows = segmentIds.length;
  const inner = xShape.slice(idsRank).reduce((a, b) => a * b, 1);
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

// Marks the BatchMatMul config this module registered; replacements that spread it (as
// @shiftmix/native's do) keep the mark, so the wrapper never wraps itself again.
const WRAPPED = Symbol('shiftmix transposes first');

/**
 * tfjs-wasm's BatchMatMul takes a slow path (5-6x) whenever transposeA or transposeB is
 * set, which is every backward product and the tied LM head. An explicit Transpose is a
 * cheap O(n) copy, after which the fast path applies, so the wrapper transposes first.
 */
function wrapWasmBatchMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || WRAPPED in original) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
    };
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    const out = original.kernelFunc({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    const wasm = backend as unknown as { disposeData(dataId: object): void };
    if (a2 !== a) wasm.disposeData(a2.dataId);
    if (b2 !== b) wasm.disposeData(b2.dataId);
    return out;
  };
  tf.registerKernel({ ...original, kernelFunc, [WRAPPED]: true } as tf.KernelConfig);
}

/**
 * UnsortedSegmentSum as a kernel computes it on any backend that can read its inputs: the
 * ids cover x's leading axes, as many as the ids have (guessing them from sizes is
 * ambiguous when an axis has size 1), and the output is [numSegments, ...the rest of x].
 */
function segmentSum(
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap | undefined,
  read: (info: tf.TensorInfo) => ArrayLike<number>,
): { shape: number[]; dtype: tf.DataType; values: Float32Array | Int32Array } {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const rank = segmentIds.shape.length;
  const summed = unsortedSegmentSumReference(read(x), x.shape, read(segmentIds), numSegments, rank);
  return { shape: [numSegments, ...x.shape.slice(rank)], dtype: x.dtype, values: x.dtype === 'int32' ? Int32Array.from(summed) : summed };
}

/**
 * Kernels the tfjs wasm backend lacks but training needs: UnsortedSegmentSum backs the
 * gradient of gather (the token embedding). Computed on the wasm heap's data in JS.
 * Also routes transposed matmuls to the fast path (see wrapWasmBatchMatMul).
 */
export function registerMissingWasmKernels(): void {
  wrapWasmBatchMatMul();
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmBackendLike;
      const { shape, dtype, values } = segmentSum(inputs, attrs, (info) => wasm.readSync(info.dataId));
      const out = wasm.makeOutput(shape, dtype);
      wasm.typedArrayFromHeap(out).set(values);
      return out;
    },
  });
}

let cpuSegmentSumReplaced = false;

/**
 * tfjs's CPU UnsortedSegmentSum builds a masked copy of x per segment: O(segments x size)
 * with a tensor each, which with GPT-2's 50,257 segments (the embedding's gradient) never
 * finished a step. Replaced once by the linear loop above.
 */
export function replaceCpuSegmentSum(): void {
  if (cpuSegmentSumReplaced) return;
  cpuSegmentSumReplaced = true;
  if (tf.getKernel('UnsortedSegmentSum', 'cpu')) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const cpu = backend as unknown as {
        readSync(dataId: object): ArrayLike<number>;
        makeTensorInfo(shape: number[], dtype: string, values: ArrayLike<number>): tf.TensorInfo;
      };
      const { shape, dtype, values } = segmentSum(inputs, attrs, (info) => cpu.readSync(info.dataId));
      return cpu.makeTensorInfo(shape, dtype, values);
    },
  });
}
