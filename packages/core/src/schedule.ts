import { ShiftmixError } from './errors.js';

export type ScheduleKind = 'radix' | 'doubling';
/** A named schedule, or explicit shift lists: one list per shift-based layer. */
export type ShiftSchedule = ScheduleKind | number[][];

export interface ScheduleResult {
  /** shifts[i] are the group shifts of the i-th shift-based layer. */
  shifts: number[][];
  /** Shifts >= T_max feed only zeros: not an error, but worth saying, with what would use them. */
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
 * Assigns shifts to the shift-based layers of a stack (the core README's "Shifts").
 * `radix`: r - 1 channel groups, group g shifted by g * r^i, so every distance below
 * T_max is a sum of one digit-shift per layer. `doubling`: one group, shift 2^(i mod log2 T).
 */
export function computeShiftSchedule(schedule: ShiftSchedule, numShiftLayers: number, contextLength: number, dim: number): ScheduleResult {
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
    shifts = Array.from({ length: numShiftLayers }, (_, i) => Array.from({ length: r - 1 }, (_, g) => (g + 1) * r ** i));
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
        throw new ShiftmixError(
          `shift list ${i} of the explicit schedule must hold 1 to D=${dim} shifts`,
          'Give each layer a non-empty list such as [1, 2]',
          'E_SCHEDULE',
        );
      }
      for (const s of list) {
        if (!Number.isInteger(s) || s < 1) {
          throw new ShiftmixError(
            `shift ${String(s)} in list ${i} of the explicit schedule is not a positive integer`,
            'Shifts are whole numbers >= 1',
            'E_SCHEDULE',
          );
        }
      }
    });
    shifts = schedule.map((list) => [...list]);
  } else {
    throw new ShiftmixError(`unknown shift schedule ${JSON.stringify(schedule)}`, 'Use "radix", "doubling" or an array of shift lists', 'E_SCHEDULE');
  }
  const warning = unusedShiftsWarning(schedule, shifts, contextLength);
  return { shifts, warnings: warning ? [warning] : [] };
}

/** Whether every radix shift over `layers` layers stays below `contextLength`. */
function radixFits(layers: number, contextLength: number): boolean {
  const r = radixBase(layers, contextLength);
  return (r - 1) * r ** (layers - 1) < contextLength;
}

/**
 * Shifts >= T_max only ever read the zeros before the sequence: not an error (an
 * explicit schedule may mean it), but the channels of those groups learn nothing, so the warning says which
 * shifts and what would put them to use.
 */
function unusedShiftsWarning(schedule: ShiftSchedule, shifts: number[][], contextLength: number): string | undefined {
  const over = shifts.map((list, i) => ({ layer: i, shifts: list.filter((s) => s >= contextLength) })).filter((o) => o.shifts.length);
  if (!over.length) return undefined;
  const where = over.map((o) => `${o.shifts.join(', ')} (shift-based layer ${o.layer})`).join('; ');
  const problem = `shifts ${where} are >= the context length ${contextLength}, so their channels only ever see zeros`;
  const needed = Math.max(...over.flatMap((o) => o.shifts)) + 1;
  if (schedule !== 'radix') {
    return `${problem}. Drop those shifts from the explicit schedule, or raise the context length (contextLength, --ctx) to ${needed} or more`;
  }
  // The radix base depends on the context length, so search for the first one that fits.
  let context = contextLength + 1;
  while (!radixFits(shifts.length, context)) context++;
  const layers = Array.from({ length: 2 * shifts.length }, (_, i) => i + 2).filter((n) => radixFits(n, contextLength));
  const closest = layers.sort((a, b) => Math.abs(a - shifts.length) - Math.abs(b - shifts.length))[0];
  const options = [`a context length (contextLength, --ctx) of ${context} or more`];
  if (closest !== undefined) options.push(`${closest} shift-based layers at this context`);
  options.push('the doubling schedule');
  return `${problem}. Harmless, but to use every channel take ${options.join(', or ')}`;
}
