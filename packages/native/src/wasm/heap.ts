import { tf } from '@shiftmix/core';
import type { AnyKernel } from '@shiftmix/core/kernels';

/** The parts of tfjs's wasm backend its kernels use; tfjs does not export the type. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A kernel object and the wasm backend's function for it. */
export type WasmImplementation = [AnyKernel, tf.KernelFunc];

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Float32 views of tensors on the wasm heap. Take them after every makeOutput of a
 * kernel: an allocation may grow the heap, which detaches the views taken before it.
 */
export function heapViews(backend: WasmBackend, ...infos: tf.TensorInfo[]): Float32Array[] {
  return infos.map((info) => backend.typedArrayFromHeap(info) as Float32Array);
}
