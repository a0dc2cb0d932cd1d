import type { NativeKernels } from '@shiftmix/native';
import { ShiftmixError } from '../errors.js';
import { FUSION_BLEND_GRAD_KERNEL, GROUP_SHIFT_GRAD_KERNEL, HSM_AB_GRAD_KERNEL } from '../kernels/names.js';
import { FUSION_BLEND_KERNEL, HSM_AB_KERNEL } from '../ops/mix.js';
import { GROUP_SHIFT_KERNEL } from '../ops/shift.js';
import { tf } from '../tf.js';
import { heapViews, type KernelArgs, type WasmBackend } from './wasm-heap.js';

type TensorInfo = tf.TensorInfo;
type Named = Record<string, TensorInfo>;

// The shift call's tail: shifts per channel group, then [B, T, D] of x.
function shiftArgs(kernel: string, x: TensorInfo, attrs: tf.NamedAttrMap | undefined): [Int32Array, number, number, number] {
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

/** The group shift, the (a,b) mix and the learned-fusion blend with their backward kernels, as native loops. */
export function nativeShiftKernels(native: NativeKernels): tf.KernelConfig[] {
  const shift =
    (kernel: string, back: number): tf.KernelFunc =>
    (args) => {
      const { inputs, backend, attrs } = args as unknown as KernelArgs;
      const x = (inputs as Named).x ?? (inputs as Named).dy;
      const wasm = backend as WasmBackend;
      const tail = shiftArgs(kernel, x, attrs);
      const y = wasm.makeOutput(x.shape, 'float32');
      const [xv, yv] = heapViews(wasm, x, y);
      native.groupShift(xv, yv, back, ...tail);
      return y;
    };
  const hsmAb: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { u, a, b } = inputs as Named;
    const wasm = backend as WasmBackend;
    const tail = shiftArgs(HSM_AB_KERNEL, u, attrs);
    const y = wasm.makeOutput(u.shape, 'float32');
    const [uv, av, bv, yv] = heapViews(wasm, u, a, b, y);
    native.hsmAbForward(uv, av, bv, yv, ...tail);
    return y;
  };
  const hsmAbGrad: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, u, a, b } = inputs as Named;
    const wasm = backend as WasmBackend;
    const tail = shiftArgs(HSM_AB_GRAD_KERNEL, u, attrs);
    const du = wasm.makeOutput(u.shape, 'float32');
    const [da, db] = [a, b].map((x) => wasm.makeOutput(x.shape, 'float32'));
    const [dyv, uv, av, bv, duv, dav, dbv] = heapViews(wasm, dy, u, a, b, du, da, db);
    native.hsmAbBackward(dyv, uv, av, bv, duv, dav, dbv, ...tail);
    return [du, da, db];
  };
  const blend: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { g, v } = inputs as Named;
    const wasm = backend as WasmBackend;
    const tail = shiftArgs(FUSION_BLEND_KERNEL, v, attrs);
    const y = wasm.makeOutput(v.shape, 'float32');
    const [gv, vv, yv] = heapViews(wasm, g, v, y);
    native.fusionBlendForward(gv, vv, yv, ...tail);
    return y;
  };
  const blendGrad: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, g, v } = inputs as Named;
    const wasm = backend as WasmBackend;
    const tail = shiftArgs(FUSION_BLEND_GRAD_KERNEL, v, attrs);
    const [dg, dv] = [0, 1].map(() => wasm.makeOutput(v.shape, 'float32'));
    const [dyv, gv, vv, dgv, dvv] = heapViews(wasm, dy, g, v, dg, dv);
    native.fusionBlendBackward(dyv, gv, vv, dgv, dvv, ...tail);
    return [dg, dv];
  };
  return [
    { kernelName: GROUP_SHIFT_KERNEL, backendName: 'wasm', kernelFunc: shift(GROUP_SHIFT_KERNEL, 0) },
    { kernelName: GROUP_SHIFT_GRAD_KERNEL, backendName: 'wasm', kernelFunc: shift(GROUP_SHIFT_GRAD_KERNEL, 1) },
    { kernelName: HSM_AB_KERNEL, backendName: 'wasm', kernelFunc: hsmAb },
    { kernelName: HSM_AB_GRAD_KERNEL, backendName: 'wasm', kernelFunc: hsmAbGrad },
    { kernelName: FUSION_BLEND_KERNEL, backendName: 'wasm', kernelFunc: blend },
    { kernelName: FUSION_BLEND_GRAD_KERNEL, backendName: 'wasm', kernelFunc: blendGrad },
  ];
}
