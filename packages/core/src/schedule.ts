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

/**
 * The largest shift a layer takes. A shift-based layer's decode ring holds max(shifts)
 * positions, and shifts past the context only ever see zeros, so a stack whose schedule
 * goes past this is refused rather than left to run out of memory when it decodes.
 */
export const MAX_SHIFT = 2 ** 20;

/** The smallest integer r >= 2 with r^n >= T_max, in O(1) for any n (a root, then a nudge past rounding). */
export function radixBase(numShiftLayers: number, contextLength: number): number {
  let r = Math.max(2, Math.ceil(contextLength ** (1 / numShiftLayers)));
  while (r > 2 && (r - 1) ** numShiftLayers >= contextLength) r--;
  while (r ** numShiftLayers < contextLength) r++;
  return r;
}

/** The largest radix shift of `layers` layers at `contextLength`: (r - 1) r^(n - 1). */
function largestRadixShift(layers: number, contextLength: number): number {
  const r = radixBase(layers, contextLength);
  return (r - 1) * r ** (layers - 1);
}

/** The most shift-based layers whose radix shifts all stay within MAX_SHIFT at this context (0 if none). */
function mostRadixLayers(contextLength: number): number {
  let most = 0;
  // Past log2(MAX_SHIFT) + 1 layers the base is 2 and the last shift 2^(n-1) is too large.
  for (let n = 1; n <= Math.log2(MAX_SHIFT) + 1; n++) if (largestRadixShift(n, contextLength) <= MAX_SHIFT) most = n;
  return most;
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
    const largest = largestRadixShift(numShiftLayers, contextLength);
    if (largest > MAX_SHIFT) {
      const most = mostRadixLayers(contextLength);
      const fewer = most > 0 ? `at most ${most} shift-based layers at this context (more only add shifts past it), ` : 'a shorter --ctx, ';
      throw new ShiftmixError(
        `the radix schedule over ${numShiftLayers} shift-based layers at context ${contextLength} gives shifts up to ${largest}, past the largest a layer takes (${MAX_SHIFT}: its decode ring holds that many positions)`,
        `Use ${fewer}or --schedule doubling`,
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
        if (!Number.isInteger(s) || s < 1 || s > MAX_SHIFT) {
          throw new ShiftmixError(
            `shift ${String(s)} in list ${i} of the explicit schedule is not a whole number from 1 to ${MAX_SHIFT}`,
            `Shifts are whole numbers >= 1; a layer's decode ring holds its largest shift, so at most ${MAX_SHIFT}`,
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
  return largestRadixShift(layers, contextLength) < contextLength;
}

/**
 * The smallest context above `contextLength` at which `layers` radix layers put every shift
 * to use. With r its base, the contexts that fit are ((r - 1) r^(n-1), r^n], so the base the
 * next context takes has one, found without a search.
 */
function nextFittingContext(layers: number, contextLength: number): number {
  const r = radixBase(layers, contextLength + 1);
  return Math.max(contextLength + 1, (r - 1) * r ** (layers - 1) + 1);
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
  const context = nextFittingContext(shifts.length, contextLength);
  const layers = Array.from({ length: 2 * shifts.length }, (_, i) => i + 2).filter((n) => radixFits(n, contextLength));
  const closest = layers.sort((a, b) => Math.abs(a - shifts.length) - Math.abs(b - shifts.length))[0];
  const options = [`a context length (contextLength, --ctx) of ${context} or more`];
  if (closest !== undefined) options.push(`${closest} shift-based layers at this context`);
  options.push('the doubling schedule');
  return `${problem}. Harmless, but to use every channel take ${options.join(', or ')}`;
}
