import { ShiftmixError, tf } from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD, GROUP_SHIFT, GROUP_SHIFT_GRAD, HSM_AB, HSM_AB_GRAD } from '@shiftmix/core/kernels';
import { heapViews, withNative, type KernelArgs, type WasmBackend } from './heap.js';

// The shift mixers' kernels under wasm: the group shift, the (a,b) mix and the
// learned-fusion blend with their backward kernels, as native loops over channel groups.

declare module '../addon.js' {
  interface NativeKernels {
    /** y = S(x) over x [batch, length, dim], or with back 1 the other way (y[t] = x[t + s]), S's gradient. */
    groupShift(x: Float32Array, y: Float32Array, back: number, shifts: Int32Array, batch: number, length: number, dim: number): void;
    /** y = a * u + b * S(u) over u [batch, length, dim]; channel groups as core's channelGroups, one shift each. */
    hsmAbForward(u: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array, shifts: Int32Array, batch: number, length: number, dim: number): void;
    hsmAbBackward(
      dy: Float32Array,
      u: Float32Array,
      a: Float32Array,
      b: Float32Array,
      du: Float32Array,
      da: Float32Array,
      db: Float32Array,
      shifts: Int32Array,
      batch: number,
      length: number,
      dim: number,
    ): void;
    /** y = S(v) + g * (v - S(v)), the learned-fusion blend. */
    fusionBlendForward(g: Float32Array, v: Float32Array, y: Float32Array, shifts: Int32Array, batch: number, length: number, dim: number): void;
    fusionBlendBackward(
      dy: Float32Array,
      g: Float32Array,
      v: Float32Array,
      dg: Float32Array,
      dv: Float32Array,
      shifts: Int32Array,
      batch: number,
      length: number,
      dim: number,
    ): void;
  }
}

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

// Implemented on import, where the addon is built.
withNative((native) => {
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
  GROUP_SHIFT.implement('wasm', shift(GROUP_SHIFT.name, 'x', 0));
  GROUP_SHIFT_GRAD.implement('wasm', shift(GROUP_SHIFT_GRAD.name, 'dy', 1));
  HSM_AB.implement('wasm', hsmAb);
  HSM_AB_GRAD.implement('wasm', hsmAbGrad);
  FUSION_BLEND.implement('wasm', blend);
  FUSION_BLEND_GRAD.implement('wasm', blendGrad);
});
