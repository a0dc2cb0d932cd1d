import { ShiftmixError } from '../errors.js';
import { channelGroups } from '../schedule.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';

/** Throws unless `shifts` is a non-empty list of positive integers with at most `dim` entries. */
export function checkShifts(shifts: readonly number[], dim: number, who = 'a shift-based mixer'): void {
  if (!Array.isArray(shifts) || shifts.length === 0) {
    throw new ShiftmixError(
      `${who} was created without shifts`,
      'Create it through the model stack, which assigns shifts from the schedule, or set ctx.shifts (e.g. [1, 2])',
      'E_SHIFTS',
    );
  }
  if (shifts.length > dim) {
    throw new ShiftmixError(`${who} got ${shifts.length} shifts for only D=${dim} channels`, 'Give at most one shift per channel', 'E_SHIFTS');
  }
  for (const s of shifts) {
    if (!Number.isInteger(s) || s < 1) {
      throw new ShiftmixError(`${who} got shift ${String(s)}`, 'Shifts are whole numbers >= 1', 'E_SHIFTS');
    }
  }
}

/**
 * Decode state of a shift-based mixer: the last m = max(shifts) inputs, oldest first,
 * [B, m, D], zeros before the first token. Row m - s holds the input s positions back.
 *
 * tfjs tensors are immutable, so writing one row of a modular ring would copy the whole
 * buffer anyway; keeping the rows in time order costs the same O(m D) copy per step,
 * needs no position arithmetic, and lowers to constant Slice/Concat nodes in ONNX. The
 * zeros that S feeds for t < s are simply the initial zero rows. A step is therefore
 * O(m D) for the write and O(D) for the read, independent of the sequence length.
 */
export function shiftRingSize(shifts: readonly number[]): number {
  return Math.max(...shifts);
}

/** A zero ring for `batch` sequences: [batch, max(shifts), dim]. */
export function createShiftRing(batch: number, dim: number, shifts: readonly number[]): Tensor3D {
  return tf.zeros([batch, shiftRingSize(shifts), dim]) as Tensor3D;
}

/**
 * S(u) at the position about to be written: group g reads the input shifts[g] steps
 * back, i.e. ring row m - shifts[g]. ring: [B, m, D] -> [B, D].
 */
export function readShiftRing(ring: Tensor3D, shifts: readonly number[]): Tensor2D {
  const [b, m, d] = ring.shape;
  return tf.tidy(() => {
    const parts = channelGroups(d, shifts.length)
      .map((group, g) => ({ ...group, shift: shifts[g] }))
      .filter((group) => group.size > 0)
      .map(({ start, size, shift }) => ring.slice([0, m - shift, start], [b, 1, size]).reshape([b, size]));
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as Tensor2D;
  });
}

/** Appends u: [B, D] as the newest row and drops the oldest; returns a new [B, m, D] ring. */
export function writeShiftRing(ring: Tensor3D, u: Tensor2D): Tensor3D {
  const [b, m, d] = ring.shape;
  return tf.tidy(() => {
    const newest = u.reshape([b, 1, d]);
    if (m === 1) return newest as Tensor3D;
    return tf.concat([ring.slice([0, 1, 0], [b, m - 1, d]), newest], 1) as Tensor3D;
  });
}

/** Throws unless `u` is one token per sequence, [B, dim], as a mixer's step takes it. */
export function checkStepInput(mixer: string, u: Tensor2D, dim: number): void {
  if (u.shape.length !== 2 || u.shape[1] !== dim) {
    throw new ShiftmixError(`${mixer} step got an input of shape [${u.shape.join(', ')}]`, `Pass one token per sequence, [batch, ${dim}]`, 'E_SHAPE');
  }
}

/** (S_s x)[:, t] = x[:, t - s] for t >= s, else 0. x: [B, T, C]. */
export function shiftTime(x: Tensor3D, shift: number): Tensor3D {
  const [b, t, c] = x.shape;
  if (shift === 0) return x;
  if (shift >= t) return tf.zeros([b, t, c]);
  return tf
    .pad(x, [
      [0, 0],
      [shift, 0],
      [0, 0],
    ])
    .slice([0, 0, 0], [b, t, c]) as Tensor3D;
}
