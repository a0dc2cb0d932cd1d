import { describe, expect, it } from 'vitest';
import {
  attentionBlockParamCount,
  checkStackOptions,
  ffnParamCount,
  matchedFfnWidth,
  parseLayerPattern,
  parseStackOption,
  resolveModelConfig,
} from './config.js';
import { useToyMixers } from './toy-mixers.test-util.js';

useToyMixers();

describe('parseLayerPattern', () => {
  it('expands counts in order', () => {
    expect(parseLayerPattern('toy-shift*2, toy-mean ,toy-shift')).toEqual(['toy-shift', 'toy-shift', 'toy-mean', 'toy-shift']);
    expect(parseLayerPattern('toy-mean * 3')).toEqual(['toy-mean', 'toy-mean', 'toy-mean']);
  });

  it('rejects empty patterns and empty parts', () => {
    expect(() => parseLayerPattern('')).toThrow(/layer pattern is empty/);
    expect(() => parseLayerPattern('  ')).toThrow(/layer pattern is empty/);
    expect(() => parseLayerPattern('toy-shift,,toy-mean')).toThrow(/part 2 .* is empty/);
    expect(() => parseLayerPattern('toy-shift,')).toThrow(/part 2 .* is empty/);
  });

  it('rejects bad counts', () => {
    for (const bad of ['toy-shift*0', 'toy-shift*-1', 'toy-shift*1.5', 'toy-shift*x', 'toy-shift*']) {
      expect(() => parseLayerPattern(bad), bad).toThrow(/count|not a mixer name/);
    }
    expect(() => parseLayerPattern('toy-shift*0')).toThrow(/whole number >= 1/);
  });

  it('rejects names that are not kebab-case and lists registered mixers for unknown ones', () => {
    expect(() => parseLayerPattern('Toy Shift')).toThrow(/not a mixer name/);
    expect(() => parseLayerPattern('toy-shift,nope*2')).toThrow(/unknown mixer "nope".*toy-mean, toy-shift/);
    // Library users have no --plugin flag: the fix names the library's way to register.
    expect(() => parseLayerPattern('nope')).toThrow(/register\(\) or registerMixer\(spec\)$/);
    expect(parseLayerPattern('nope*2', { checkRegistry: false })).toEqual(['nope', 'nope']);
  });
});

describe('resolveModelConfig', () => {
  const base = { vocabSize: 10, dim: 8, heads: 2, contextLength: 16, layers: 'toy-shift*2' };

  it('fills defaults and copies nested options', () => {
    const mixers = { 'toy-shift': { k: 1 } };
    const c = resolveModelConfig({ ...base, mixers });
    expect(c).toMatchObject({ ...base, ffn: 'match', positional: 'auto', schedule: 'radix', dropout: 0 });
    expect(c.mixers).toEqual(mixers);
    expect(c.mixers['toy-shift']).not.toBe(mixers['toy-shift']);
  });

  it('leaves heads to the mixers that have them: a shift-only stack takes any dim', () => {
    expect(resolveModelConfig({ ...base, dim: 10, heads: 4 })).toMatchObject({ dim: 10, heads: 4 });
    expect(resolveModelConfig({ vocabSize: 10, dim: 128, layers: 'toy-shift*4' }).heads).toBe(6);
  });

  it('names the problem and the fix', () => {
    expect(() => resolveModelConfig({ ...base, contextLength: 0 })).toThrow(/contextLength is 0.*>= 1/);
    expect(() => resolveModelConfig({ ...base, vocabSize: 1 })).toThrow(/vocabSize is 1.*>= 2/);
    expect(() => resolveModelConfig({ ...base, dim: 7.5 })).toThrow(/dim is 7.5/);
    expect(() => resolveModelConfig({ ...base, ffn: 0 })).toThrow(/ffn is 0/);
    expect(() => resolveModelConfig({ ...base, dropout: 1 })).toThrow(/dropout 1 is outside/);
    expect(() => resolveModelConfig({ ...base, positional: 'sinusoidal' as never })).toThrow(/positional/);
    expect(() => resolveModelConfig({ ...base, dimm: 4 } as never)).toThrow(/unknown model option "dimm"/);
    expect(() => resolveModelConfig({ ...base, mixers: { 'toy-mean': {} } })).toThrow(/no such layer.*toy-shift/);
    expect(() => resolveModelConfig({ ...base, layers: 'toy-shift,,x' })).toThrow(/is empty/);
  });
});

describe('stack options', () => {
  it('are checked where given, with the name the caller uses', () => {
    expect(() => checkStackOptions({})).not.toThrow();
    expect(() =>
      checkStackOptions({ layers: 'toy-shift*2', ffn: 'match', positional: 'none', schedule: [[1], [2, 0]], mixers: { 'toy-shift': {} } }),
    ).not.toThrow();
    const named = (key: string) => `models.gpt.${key}`;
    expect(() => checkStackOptions({ ffn: 'wide' as never }, named)).toThrow(/^models\.gpt\.ffn is "wide", it must be "match" or a whole number >= 1/);
    expect(() => checkStackOptions({ positional: 'rope' as never }, named)).toThrow(/models\.gpt\.positional is "rope"/);
    for (const schedule of ['fast', [[]], [[1.5]], [1, 2], [[-1]]]) {
      expect(() => checkStackOptions({ schedule: schedule as never }, named), JSON.stringify(schedule)).toThrow(
        /models\.gpt\.schedule is .*, not a shift schedule/,
      );
    }
    expect(() => checkStackOptions({ mixers: [] as never }, named)).toThrow(/models\.gpt\.mixers is not an object/);
    expect(() => checkStackOptions({ layers: 'toy-shift', mixers: { 'toy-mean': {} } })).toThrow(/no such layer/);
    expect(() => checkStackOptions({ layers: 'toy-shift', mixers: { 'toy-shift': 3 as never } })).toThrow(/options for mixer "toy-shift" are not an object/);
    // Names are resolved when a model is built: a plugin's mixer may not be loaded yet.
    expect(() => checkStackOptions({ layers: 'not-loaded*2' })).not.toThrow();
    expect(() => checkStackOptions({ layers: 'toy-shift,,x' })).toThrow(/is empty/);
  });

  it('are read from text, as a command line gives them', () => {
    expect(parseStackOption('ffn', 'match')).toBe('match');
    expect(parseStackOption('ffn', '512')).toBe(512);
    for (const bad of ['0', '1.5', 'wide', '-3', ''])
      expect(() => parseStackOption('ffn', bad, '--ffn'), bad).toThrow(/^--ffn must be "match" or a positive integer width/);
    expect(parseStackOption('schedule', 'doubling')).toBe('doubling');
    expect(parseStackOption('schedule', '[[1,2],[3,6]]')).toEqual([
      [1, 2],
      [3, 6],
    ]);
    for (const bad of ['fast', '[[1,2]', '[[]]', '[1]'])
      expect(() => parseStackOption('schedule', bad), bad).toThrow(/^schedule must be radix, doubling or a JSON list/);
  });
});

describe('FFN width matching', () => {
  // Reference: search every multiple of 64 for the width whose block is closest to the GPT block.
  function bruteForce(dim: number, mixerParams: number): number {
    const target = attentionBlockParamCount(dim);
    let best = 64;
    for (let h = 64; h <= 64 * dim; h += 64) {
      const diff = Math.abs(mixerParams + ffnParamCount(dim, h) - target);
      const bestDiff = Math.abs(mixerParams + ffnParamCount(dim, best) - target);
      if (diff <= bestDiff) best = h;
    }
    return best;
  }

  it('gives attention 4D and the (a,b) mixer 6D', () => {
    for (const dim of [64, 128, 384]) {
      expect(matchedFfnWidth(dim, 4 * dim * dim + 4 * dim)).toBe(4 * dim);
      expect(matchedFfnWidth(dim, 2 * dim)).toBe(6 * dim);
    }
  });

  it('matches a brute-force search over multiples of 64', () => {
    for (const dim of [48, 96, 100, 384]) {
      for (const p of [2 * dim, dim * dim, 3 * dim * dim + 7, 4 * dim * dim + 4 * dim, 8 * dim * dim]) {
        expect(matchedFfnWidth(dim, p), `D=${dim} p=${p}`).toBe(bruteForce(dim, p));
      }
    }
  });

  it('never goes below 64', () => {
    expect(matchedFfnWidth(16, 100 * 16 * 16)).toBe(64);
  });
});
