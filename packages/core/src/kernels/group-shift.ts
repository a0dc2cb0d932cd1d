import { shiftTime } from '../ops/shift.js';
import { channelGroups } from '../schedule.js';
import { tf, type Tensor, type Tensor3D } from '../tf.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { normal, type ParityCheck } from './parity.js';

// The per-group shift S of HSM (the core README's "Shifts"), alone: learned fusion shifts
// its projections with it. Its backward is the shift the other way, y[t] = dy[t + s].

type ShiftAttrs = { shifts: number[] };

/** Composite reference of groupShift (slices, pads and a concat). x: [B, T, D] -> [B, T, D]. */
export function groupShiftReference(x: Tensor3D, shifts: readonly number[]): Tensor3D {
  const [b, t, d] = x.shape;
  if (shifts.length === 1) return shiftTime(x, shifts[0]);
  return tf.tidy(() => {
    const parts = channelGroups(d, shifts.length)
      .map((group, g) => ({ ...group, shift: shifts[g] }))
      .filter((group) => group.size > 0)
      .map(({ start, size, shift }) => shiftTime(x.slice([0, 0, start], [b, t, size]) as Tensor3D, shift));
    return tf.concat(parts, 2) as Tensor3D;
  });
}

export const GROUP_SHIFT: FusedKernel<ShiftAttrs> = defineKernel<ShiftAttrs>({
  name: 'ShiftmixGroupShift',
  summary: 'the per-group shift S: channel group g delayed by shifts[g], zeros flowing in',
  inputs: { x: 'float32 [B, T, D]' },
  attrs: { shifts: 'one per contiguous channel group' },
  outputs: { y: 'S(x) [B, T, D]' },
  shapes: ({ x }) => [x],
  reference: ({ x }, { shifts }) => groupShiftReference(x as Tensor3D, shifts),
  fits: ({ x }) => x.dtype === 'float32',
  backward: {
    name: 'ShiftmixGroupShiftGrad',
    summary: "the group shift's gradient: channel group g read shifts[g] positions ahead, zeros past the end",
    inputs: { dy: 'float32 [B, T, D]' },
    outputs: { dx: '[B, T, D]' },
    shapes: ({ dy }) => [dy],
  },
  gradient: {
    backward: ([dy], _saved, attrs, backward) => ({ x: () => backward.call({ dy }, attrs) }),
  },
  checks: () =>
    [
      { shape: [2, 9, 8], shifts: [3] },
      { shape: [3, 13, 7], shifts: [2, 5, 40] },
    ].map(({ shape, shifts }): ParityCheck => ({
      name: `groupShift ${JSON.stringify(shape)} shifts ${shifts}`,
      kernels: [GROUP_SHIFT.name, GROUP_SHIFT_GRAD.name],
      run() {
        const x = normal(shape, 1);
        const w = normal(shape, 2);
        const loss = (f: (t: Tensor) => Tensor) => (t: Tensor) => tf.sum(tf.mul(f(t), w));
        const fused = (t: Tensor) => groupShift(t as Tensor3D, shifts);
        const reference = (t: Tensor) => groupShiftReference(t as Tensor3D, shifts);
        return [
          { what: 'forward', got: fused(x), want: reference(x), tol: 0 },
          { what: 'dx', got: tf.grads(loss(fused))([x])[0], want: tf.grads(loss(reference))([x])[0], tol: 0 },
        ];
      },
    })),
});

export const GROUP_SHIFT_GRAD: FusedKernel<ShiftAttrs> = GROUP_SHIFT.backward!;

/**
 * The per-group shift S: the D channels are split into `shifts.length` contiguous groups
 * (`channelGroups`) and group g is delayed by shifts[g] positions, zeros flowing in at the
 * start. x: [B, T, D] -> [B, T, D]. One kernel where the backend implements GROUP_SHIFT.
 */
export function groupShift(x: Tensor3D, shifts: readonly number[]): Tensor3D {
  return GROUP_SHIFT.run({ x }, { shifts: [...shifts] });
}
