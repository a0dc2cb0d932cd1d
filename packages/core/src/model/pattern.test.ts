import { describe, expect, it } from 'vitest';
import { ShiftmixError } from '../errors.js';
import { MAX_BLOCKS, parseLayerParts, parseLayerPattern } from './pattern.js';
import { useToyMixers } from './toy-mixers.test-util.js';

useToyMixers();

function errorOf(fn: () => unknown): ShiftmixError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ShiftmixError) return error;
    throw error;
  }
  throw new Error('expected a ShiftmixError');
}

describe('parseLayerParts', () => {
  it('gives each block its own options and repeats them with the count', () => {
    expect(parseLayerParts('toy-mean(scale=2),toy-mean')).toEqual([
      { name: 'toy-mean', options: { scale: 2 } },
      { name: 'toy-mean', options: {} },
    ]);
    const parts = parseLayerParts(' toy-mean ( scale = 0.5 ) * 2 , toy-shift*2');
    expect(parts.map((p) => p.name)).toEqual(['toy-mean', 'toy-mean', 'toy-shift', 'toy-shift']);
    expect(parts.map((p) => p.options)).toEqual([{ scale: 0.5 }, { scale: 0.5 }, {}, {}]);
    // Repeated blocks get copies, so changing one block's options leaves the others alone.
    expect(parts[0].options).not.toBe(parts[1].options);
    expect(parseLayerParts('toy-mean()')).toEqual([{ name: 'toy-mean', options: {} }]);
  });

  it('reads numbers, booleans, null, words, quoted strings, lists and objects', () => {
    const [part] = parseLayerParts('toy-mean(a=-1.5e2, b=true, c=false, d=null, e=linear, f="x, (y)", g=[1, 2], h={"k": [3]})');
    expect(part.options).toEqual({ a: -150, b: true, c: false, d: null, e: 'linear', f: 'x, (y)', g: [1, 2], h: { k: [3] } });
    expect(parseLayerParts('toy-mean(__proto__=1)')[0].options).toEqual(Object.fromEntries([['__proto__', 1]]));
  });

  it('rejects malformed options, naming the part and the fix', () => {
    const cases: [string, RegExp][] = [
      ['toy-mean(scale)', /"scale" in "toy-mean\(scale\)" is not an option of the form KEY=VALUE/],
      ['toy-mean(=2)', /not an option of the form KEY=VALUE/],
      ['toy-mean(2x=1)', /not an option of the form KEY=VALUE/],
      ['toy-mean(scale=)', /value of scale .* is empty/],
      ['toy-mean(scale=1 2)', /value of scale .* is "1 2"/],
      ['toy-mean(scale=[1,,2])', /value of scale .* is not valid JSON/],
      ['toy-mean(scale=1, scale=2)', /option scale is given twice/],
      ['toy-mean(scale=1', /bracket that is never closed \(missing "\)"\)/],
      ['toy-mean(scale=1))', /"\)" that closes nothing/],
      ['toy-mean(s="open)', /string that is never closed/],
      ['toy-mean*2(scale=1)', /gives options after the count.*toy-mean\(window=2\)\*2/],
      ['toy-mean(scale=1)x', /not a mixer name with optional options and count/],
      ['toy-mean(scale=1e400)', /holds 1e400, a number past the range of a double/],
      ['toy-mean(scale=[1, -1e999])', /past the range of a double/],
    ];
    for (const [pattern, message] of cases) {
      const error = errorOf(() => parseLayerParts(pattern));
      expect(error.message, pattern).toMatch(message);
      expect(error.code).toBe('E_PATTERN');
      expect(error.fix.length, pattern).toBeGreaterThan(0);
    }
  });

  it('refuses more than MAX_BLOCKS blocks before expanding them', () => {
    expect(parseLayerPattern(`toy-mean*${MAX_BLOCKS}`)).toHaveLength(MAX_BLOCKS);
    for (const pattern of [`toy-mean*${MAX_BLOCKS + 1}`, `toy-mean*${MAX_BLOCKS},toy-shift`, 'toy-mean*99999999999999999999']) {
      const error = errorOf(() => parseLayerParts(pattern));
      expect(error.message, pattern).toContain(`more than ${MAX_BLOCKS} blocks`);
      expect(error.code).toBe('E_PATTERN');
    }
  });

  it('splits parts only at commas outside the options', () => {
    expect(parseLayerPattern('toy-mean(a=1, b=[2, 3]),toy-shift*2')).toEqual(['toy-mean', 'toy-shift', 'toy-shift']);
    expect(() => parseLayerPattern('toy-mean(a=1),,toy-shift')).toThrow(/part 2 .* is empty/);
  });

  it('checks names against the registry unless told not to', () => {
    expect(() => parseLayerParts('nope(window=2)')).toThrow(/unknown mixer "nope"/);
    expect(parseLayerParts('nope(window=2)*2', { checkRegistry: false })).toEqual([
      { name: 'nope', options: { window: 2 } },
      { name: 'nope', options: { window: 2 } },
    ]);
  });
});
