import { describe, expect, it } from 'vitest';
import { computeShiftSchedule, MAX_SHIFT, radixBase } from './schedule.js';
import { isShiftmixError } from './errors.js';

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

  it('finds the radix base without a search, equal to the definition for any depth', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 40, 200]) {
      for (const t of [1, 2, 3, 7, 8, 9, 63, 64, 65, 255, 256, 1000, 4096, 100_000]) {
        let r = 2;
        while (r ** n < t) r++;
        expect(radixBase(n, t), `n ${n}, T ${t}`).toBe(r);
      }
    }
  });

  it('warns about deep stacks at once, and its suggested context puts every shift to use', () => {
    // 20 layers at context 32: base 2, shifts up to 2^19, far past the context.
    const { warnings } = computeShiftSchedule('radix', 20, 32, 32);
    expect(warnings).toHaveLength(1);
    const context = Number(/of (\d+) or more/.exec(warnings[0])![1]);
    expect(context).toBe(2 ** 19 + 1);
    expect(computeShiftSchedule('radix', 20, context, 32).warnings).toEqual([]);
    expect(computeShiftSchedule('radix', 20, context - 1, 32).warnings).toHaveLength(1);
  });

  it('refuses a stack whose radix shifts pass MAX_SHIFT, naming how many layers fit', () => {
    for (const layers of [22, 32, 1024]) {
      let error: unknown;
      try {
        computeShiftSchedule('radix', layers, 32, 32);
      } catch (caught) {
        error = caught;
      }
      expect(isShiftmixError(error) && error.code).toBe('E_SCHEDULE');
      const message = (error as Error).message;
      expect(message).toContain(`past the largest a layer takes (${MAX_SHIFT}`);
      const most = Number(/at most (\d+) shift-based layers/.exec(message)![1]);
      expect(computeShiftSchedule('radix', most, 32, 32).shifts).toHaveLength(most);
      expect(() => computeShiftSchedule('radix', most + 1, 32, 32)).toThrow(/past the largest/);
    }
    // The doubling schedule the fix names builds at any depth.
    expect(computeShiftSchedule('doubling', 1024, 32, 32).shifts[1023]).toEqual([2 ** (1023 % 5)]);
    expect(() => computeShiftSchedule([[MAX_SHIFT + 1]], 1, 32, 32)).toThrow(/from 1 to/);
  });
});
