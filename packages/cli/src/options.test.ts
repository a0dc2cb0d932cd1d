import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { parseFfn, parseSchedule } from './options.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('model flags', () => {
  it('read --ffn and --schedule as core reads them', () => {
    expect(parseFfn('match')).toBe('match');
    expect(parseFfn('512')).toBe(512);
    expect(parseSchedule('radix')).toBe('radix');
    expect(parseSchedule('[[1,2],[3,6]]')).toEqual([
      [1, 2],
      [3, 6],
    ]);
  });

  it("refuse what core refuses as usage errors that name the flag, with the flag's fix", () => {
    const ffn = usageError(() => parseFfn('wide'));
    expect(ffn.problem).toBe('--ffn must be "match" or a positive integer width, got "wide"');
    expect(ffn.fix).toBe('Pass --ffn match, or e.g. --ffn 512');
    const schedule = usageError(() => parseSchedule('[[]]'));
    expect(schedule.problem).toBe('--schedule must be radix, doubling or a JSON list of shift lists, got "[[]]"');
    expect(schedule.fix).toMatch(/^Pass --schedule radix/);
  });
});
