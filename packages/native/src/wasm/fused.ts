import { ShiftmixError, tf } from '@shiftmix/core';
import { onKernelDefined, type AnyKernel } from '@shiftmix/core/kernels';
import type { FusedBinding } from '../addon.js';
import { withNative, type KernelArgs, type WasmBackend } from './heap.js';

// core's kernel objects under wasm through the C++ kernels the addon exports under their
// names (SHIFTMIX_KERNEL in each .cc file), all called one way: so a kernel's C++ file is
// all this package needs of it. Kernels defined later (a plugin's, the tests' example) are
// implemented as they are defined.

const NO_ATTRS = {};

/**
 * The wasm kernel function of `kernel` through its binding: the output shapes its contract
 * gives, the outputs on the heap, one native call over views of inputs and outputs.
 */
function nativeKernel(kernel: AnyKernel, binding: FusedBinding): tf.KernelFunc {
  const names = Object.keys(kernel.spec.inputs);
  // Reused by every call, as the kernels of a planned step run thousands of times: kernel
  // functions run one at a time, and the binding is done with these when it returns.
  const infos: tf.TensorInfo[] = new Array(names.length);
  const shapes: Record<string, number[]> = {};
  const shapeList: number[][] = new Array(names.length);
  const inputViews: Float32Array[] = new Array(names.length);
  return (args) => {
    const { inputs, backend, attrs = NO_ATTRS } = args as unknown as KernelArgs;
    const wasm = backend as WasmBackend;
    for (let i = 0; i < names.length; i++) {
      const input = inputs[names[i]];
      if (!input) throw new ShiftmixError(`${kernel.name} needs input ${names[i]}`, `Pass ${names.join(', ')}`, 'E_INPUT');
      infos[i] = input;
      shapes[names[i]] = shapeList[i] = input.shape;
    }
    const outputs = kernel.outputShapes(shapes, attrs)!.map((shape) => wasm.makeOutput(shape, 'float32'));
    // Views after every makeOutput: an allocation may grow the heap, which detaches the views taken before it.
    for (let i = 0; i < names.length; i++) inputViews[i] = wasm.typedArrayFromHeap(infos[i]) as Float32Array;
    binding(
      inputViews,
      outputs.map((output) => wasm.typedArrayFromHeap(output) as Float32Array),
      shapeList,
      attrs,
    );
    return outputs.length === 1 ? outputs[0] : outputs;
  };
}

/** Implements `kernel` under wasm if the addon has a kernel of its name. */
function implementNative(fused: Readonly<Record<string, FusedBinding>>, kernel: AnyKernel): void {
  const binding = Object.hasOwn(fused, kernel.name) ? fused[kernel.name] : undefined;
  if (!binding) return;
  // Outputs are allocated from the contract's shapes: a kernel without them is a mistake to report where it is defined.
  if (!('shapes' in kernel.spec && kernel.spec.shapes)) {
    throw new ShiftmixError(
      `the native addon implements ${kernel.name}, whose contract declares no output shapes`,
      'Give its defineKernel (and its backward) `shapes`, from which the wasm glue allocates the outputs',
      'E_KERNEL',
    );
  }
  kernel.implement('wasm', nativeKernel(kernel, binding));
}

// On import, where the addon is built: every kernel defined so far, then each one as it is defined.
withNative((native) => onKernelDefined((kernel) => implementNative(native.fused, kernel)));
