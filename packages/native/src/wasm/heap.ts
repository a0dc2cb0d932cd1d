import { tf } from '@shiftmix/core';
import { loadNative, type NativeKernels } from '../addon.js';

// What every glue file shares (fused.ts's generic glue, and the files of the kernels with
// calls of their own): the wasm backend's heap, and implementing kernels on import.

/** The parts of tfjs's wasm backend its kernels use; tfjs does not export the type. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
}

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Float32 views of tensors on the wasm heap. Take them after every makeOutput of a
 * kernel: an allocation may grow the heap, which detaches the views taken before it.
 */
export function heapViews(backend: WasmBackend, ...infos: tf.TensorInfo[]): Float32Array[] {
  return infos.map((info) => backend.typedArrayFromHeap(info) as Float32Array);
}

/** A float32 view of a tensor's bytes on the heap, whatever its 4-byte dtype (copies move int32 bits through it). */
export function floatView(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  return view instanceof Float32Array ? view : new Float32Array(view.buffer, view.byteOffset, view.length);
}

/**
 * Runs a glue file's `implement` (its kernels' `implement('wasm', ...)` calls) with the
 * addon, when the file is imported. Not where the addon is not built or SHIFTMIX_NATIVE=0
 * turns it off: wasm then keeps tfjs's kernels and core's composites instead of kernels
 * that would fail.
 */
export function withNative(implement: (native: NativeKernels) => void): void {
  const { kernels } = loadNative();
  if (kernels) implement(kernels);
}
