import { describe, expect, it } from 'vitest';
import { parseShard, planSuite, selectRuns } from './plan.js';
import { jobIdOf } from './queue/jobs.js';
import { tinySuite } from './test-fixtures/tiny-suite.js';

describe('shards', () => {
  it('parses K/N and names what is wrong with anything else', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '1/2/3', '-1/2']) {
      expect(() => parseShard(bad), bad).toThrow(
        new RegExp(`shard "${bad.replace(/[/]/g, '\\/')}" is not of the form K/N with 1 <= K <= N\\. Write e\\.g\\. --shard 1/3`),
      );
    }
  });

  it('split a selection into disjoint parts that together hold every run, in suite order', () => {
    const suite = tinySuite();
    const all = planSuite(suite, 'quick', 'cpu');
    const selected = selectRuns(suite, all, 'quick', {});
    expect(selected.map((p) => p.id)).toEqual(['lm--p1', 'lm--p2', 'scale--p1', 'dec--p1']);
    const shards = [1, 2, 3].map((index) => selectRuns(suite, all, 'quick', { shard: { index, count: 3 } }).map((p) => p.id));
    expect(shards).toEqual([['lm--p1', 'dec--p1'], ['lm--p2'], ['scale--p1']]);
    // Shards apply after the other selections.
    expect(selectRuns(suite, all, 'quick', { only: ['lm'], shard: { index: 2, count: 2 } }).map((p) => p.id)).toEqual(['lm--p2']);
  });
});

describe('planned runs', () => {
  it('carry the config their hash covers, which differs by backend', () => {
    const [cpu] = planSuite(tinySuite(), 'quick', 'cpu');
    const [wasm] = planSuite(tinySuite(), 'quick', 'wasm');
    expect(cpu.config).toMatchObject({ backend: 'cpu', seed: 5, data: 'text.txt', setting: {} });
    expect(cpu.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(wasm.hash).not.toBe(cpu.hash);
  });

  it('become job ids that BullMQ accepts: an all-digit hash is not read as an integer', () => {
    expect(jobIdOf('0123456789abcdef')).toBe('0123456789abcdef');
    expect(jobIdOf('0123456789012345')).toBe('0123456789012345');
    expect(jobIdOf('1234567890123456')).toBe('h1234567890123456');
  });
});
