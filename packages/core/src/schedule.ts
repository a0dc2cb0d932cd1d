import { ShiftmixError } from './errors.js';

export type ScheduleKind = 'radix' | 'doubling';
/** A named schedule, or explicit shift lists: one list per shift-based layer. */
export type ShiftSchedule = ScheduleKind | number[][];

export interface ScheduleResult {
  /** shifts[i] are the group shifts of the i-th shift-based layer. */
  shifts: number[][];
  /** Shifts >= T_max feed only zeros: not an error, but worth saying. */
  warnings: string[];
}

/** Splits `dim` channels into `count` contiguous groups whose sizes differ by at most one. */
export function channelGroups(dim: number, count: number): { start: number; size: number }[] {
  const base = Math.floor(dim / count);
  const extra = dim % count;
  const groups: { start: number; size: number }[] = [];
  let start = 0;
  for (let g = 0; g < count; g++) {
    const size = base + (g < extra ? 1 : 0);
    groups.push({ start, size });
    start += size;
  }
  return groups;
}

/** The smallest integer r >= 2 with r^n >= T_max. */
export function radixBase(numShiftLayers: number, contextLength: number): number {
  let r = 2;
  while (r ** numShiftLayers < contextLength) r++;
  return r;
}

/**
 * Assigns shifts to the shift-based layers of a stack (SPEC section 1).
 * `radix`: r - 1 channel groups, group g shifted by g * r^i, so every distance below
 * T_max is a sum of one digit-shift per layer. `doubling`: one group, shift 2^(i mod log2 T).
 */
export function computeShiftSchedule(
  schedule: ShiftSchedule,
  numShiftLayers: number,
  contextLength: number,
  dim: number,
): ScheduleResult {
  const warnings: string[] = [];
  let shifts: number[][];
  if (numShiftLayers === 0) return { shifts: [], warnings };
  if (schedule === 'radix') {
    const r = radixBase(numShiftLayers, contextLength);
    if (r - 1 > dim) {
      throw new ShiftmixError(
        `the radix schedule over ${numShiftLayers} shift-based layer(s) and context ${contextLength} needs ${r - 1} channel groups, more than D=${dim} channels`,
        'Use more shift-based layers, a larger --dim, a shorter --ctx, or --schedule doubling',
        'E_SCHEDULE',
      );
    }
    shifts = Array.from({ length: numShiftLayers }, (_, i) =>
      Array.from({ length: r - 1 }, (_, g) => (g + 1) * r ** i),
    );
  } else if (schedule === 'doubling') {
    const period = Math.max(1, Math.ceil(Math.log2(contextLength)));
    shifts = Array.from({ length: numShiftLayers }, (_, i) => [2 ** (i % period)]);
  } else if (Array.isArray(schedule)) {
    if (schedule.length !== numShiftLayers) {
      throw new ShiftmixError(
        `the explicit schedule has ${schedule.length} shift list(s) but the stack has ${numShiftLayers} shift-based layer(s)`,
        'Give one list of shifts per shift-based layer',
        'E_SCHEDULE',
      );
    }
    schedule.forEach((list, i) => {
      if (!Array.isArray(list) || list.length === 0 || list.length > dim) {
        throw new ShiftmixError(`shift list ${i} of the explicit schedule must hold 1 to D=${dim} shifts`, 'Give each layer a non-empty list such as [1, 2]', 'E_SCHEDULE');
      }
      for (const s of list) {
        if (!Number.isInteger(s) || s < 1) {
          throw new ShiftmixError(`shift ${String(s)} in list ${i} of the explicit schedule is not a positive integer`, 'Shifts are whole numbers >= 1', 'E_SCHEDULE');
        }
      }
    });
    shifts = schedule.map((list) => [...list]);
  } else {
    throw new ShiftmixError(`unknown shift schedule ${JSON.stringify(schedule)}`, 'Use "radix", "doubling" or an array of shift lists', 'E_SCHEDULE');
  }
  shifts.forEach((list, i) => {
    const over = list.filter((s) => s >= contextLength);
    if (over.length) {
      warnings.push(`shift-based layer ${i}: shift(s) ${over.join(', ')} >= context ${contextLength} only feed zeros`);
    }
  });
  return { shifts, warnings };
}
