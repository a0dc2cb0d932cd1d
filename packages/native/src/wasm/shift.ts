import { ShiftmixError, tf } from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD, GROUP_SHIFT, GROUP_SHIFT_GRAD, HSM_AB, HSM_AB_GRAD } from '@shiftmix/core/kernels';
import type { NativeKernels } from '../addon.js';
import { heapViews, type KernelArgs, type WasmBackend, type WasmImplementation } from './heap.js';

type TensorInfo = tf.TensorInfo;
type Named = Record<string, TensorInfo>;

type ShiftTail = [Int32Array, number, number, number];

// The shift call's tail: shifts per channel group, then [B, T, D] of x.
function shiftArgs(kernel: string, x: TensorInfo, attrs: tf.NamedAttrMap | undefined): ShiftTail {
  const shifts = (attrs?.shifts ?? []) as number[];
  const [b, t, d] = x.shape;
  if (x.shape.length !== 3 || shifts.length < 1 || shifts.length > d || shifts.some((s) => !(Number.isInteger(s) && s >= 0))) {
    throw new ShiftmixError(
      `${kernel} needs [B, T, D] input and 1 to D whole shifts >= 0, got shape ${JSON.stringify(x.shape)} and shifts ${JSON.stringify(shifts)}`,
      "Call core's hsmAbMix or fusionBlend",
      'E_SHAPE',
    );
  }
  return [Int32Array.from(shifts), b, t, d];
}

/**
 * A native shift kernel: `call` gets the views of the `inputs` (in order), then of new
 * outputs shaped like the inputs `outputsLike` names, and the shift call of input
 * `shaped`; the kernel returns those outputs.
 */
function shiftKernel(
  kernel: string,
  inputs: string[],
  shaped: string,
  outputsLike: string[],
  call: (views: Float32Array[], tail: ShiftTail) => void,
): tf.KernelFunc {
  return (args) => {
    const { inputs: given, backend, attrs } = args as unknown as KernelArgs;
    const named = given as Named;
    const wasm = backend as WasmBackend;
    const tail = shiftArgs(kernel, named[shaped], attrs);
    const outputs = outputsLike.map((name) => wasm.makeOutput(named[name].shape, 'float32'));
    call(heapViews(wasm, ...inputs.map((name) => named[name]), ...outputs), tail);
    return outputs.length === 1 ? outputs[0] : outputs;
  };
}

/** The group shift, the (a,b) mix and the learned-fusion blend with their backward kernels, as native loops. */
export function nativeShiftKernels(native: NativeKernels): WasmImplementation[] {
  const shift = (kernel: string, input: string, back: number) =>
    shiftKernel(kernel, [input], input, [input], ([x, y], tail) => native.groupShift(x, y, back, ...tail));
  const hsmAb = shiftKernel(HSM_AB.name, ['u', 'a', 'b'], 'u', ['u'], ([u, a, b, y], tail) => native.hsmAbForward(u, a, b, y, ...tail));
  const hsmAbGrad = shiftKernel(HSM_AB_GRAD.name, ['dy', 'u', 'a', 'b'], 'u', ['u', 'a', 'b'], ([dy, u, a, b, du, da, db], tail) =>
    native.hsmAbBackward(dy, u, a, b, du, da, db, ...tail),
  );
  const blend = shiftKernel(FUSION_BLEND.name, ['g', 'v'], 'v', ['v'], ([g, v, y], tail) => native.fusionBlendForward(g, v, y, ...tail));
  const blendGrad = shiftKernel(FUSION_BLEND_GRAD.name, ['dy', 'g', 'v'], 'v', ['v', 'v'], ([dy, g, v, dg, dv], tail) =>
    native.fusionBlendBackward(dy, g, v, dg, dv, ...tail),
  );
  return [
    [GROUP_SHIFT, shift(GROUP_SHIFT.name, 'x', 0)],
    [GROUP_SHIFT_GRAD, shift(GROUP_SHIFT_GRAD.name, 'dy', 1)],
    [HSM_AB, hsmAb],
    [HSM_AB_GRAD, hsmAbGrad],
    [FUSION_BLEND, blend],
    [FUSION_BLEND_GRAD, blendGrad],
  ];
}
