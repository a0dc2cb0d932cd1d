import { describe, expect, it } from 'vitest';
import { computeShiftSchedule, radixBase } from './schedule.js';

describe('computeShiftSchedule', () => {
  it('gives radix digit shifts g * r^i that reach every distance below the context', () => {
    expect(radixBase(4, 256)).toBe(4);
    const { shifts, warnings } = computeShiftSchedule('radix', 4, 256, 64);
    expect(shifts).toEqual([
      [1, 2, 3],
      [4, 8, 12],
      [16, 32, 48],
      [64, 128, 192],
    ]);
    expect(warnings).toEqual([]);
  });

  it('warns about shifts that only feed zeros, and says what would use them', () => {
    // 4 layers at context 128: r = 4, and the last layer's 128 and 192 look past the start.
    const { shifts, warnings } = computeShiftSchedule('radix', 4, 128, 64);
    expect(shifts[3]).toEqual([64, 128, 192]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBe(
      'shifts 128, 192 (shift-based layer 3) are >= the context length 128, so their channels only ever see zeros. ' +
        'Harmless, but to use every channel take a context length (contextLength, --ctx) of 193 or more, ' +
        'or 7 shift-based layers at this context, or the doubling schedule',
    );
    // Each suggestion holds: no warning left.
    expect(computeShiftSchedule('radix', 4, 193, 64).warnings).toEqual([]);
    expect(computeShiftSchedule('radix', 7, 128, 64).warnings).toEqual([]);
    expect(computeShiftSchedule('doubling', 4, 128, 64).warnings).toEqual([]);
  });

  it('tells an explicit schedule to drop the shifts or lengthen the context', () => {
    const { warnings } = computeShiftSchedule([[1], [3, 20]], 2, 8, 16);
    expect(warnings).toEqual([
      'shifts 20 (shift-based layer 1) are >= the context length 8, so their channels only ever see zeros. ' +
        'Drop those shifts from the explicit schedule, or raise the context length (contextLength, --ctx) to 21 or more',
    ]);
  });
});
