import { describe, expect, it } from 'vitest';
import { checkSuiteSize, MAX_RUNS, parseShard, planSuite, selectRuns } from './plan.js';
import { jobIdOf } from './queue/jobs.js';
import type { Suite } from './suite/types.js';
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

describe('suite size', () => {
  const mqar = (settings: number, dims: number, rates: number, models: number): Suite => ({
    name: 'grid',
    seed: 1,
    benchmarks: [
      {
        name: 'recall',
        task: 'mqar',
        models: Object.fromEntries(Array.from({ length: models }, (_, i) => [`m${i}`, { layers: 'hsm-ab' }])),
        presets: {
          quick: {
            settings: Array.from({ length: settings }, (_, i) => ({ seqLen: 8 + 2 * i, pairs: 1 })),
            dims: Array.from({ length: dims }, (_, i) => 8 + i),
            lr: Array.from({ length: rates }, (_, i) => 1e-3 * (i + 1)),
          },
        },
      },
    ],
  });

  it('is counted from the sweeps without building the runs, and matches what planning builds', () => {
    for (const suite of [tinySuite(), mqar(3, 4, 2, 5)]) {
      const suiteSize = checkSuiteSize(suite, 'quick');
      expect(suiteSize).toBe(planSuite(suite, 'quick', 'cpu').length);
    }
    expect(checkSuiteSize(mqar(3, 4, 2, 5), 'quick')).toBe(120);
  });

  it('past the limit, is refused with the count and the flag that allows it, before any run is built', () => {
    expect(() => planSuite(mqar(3, 4, 2, 5), 'quick', 'cpu', 119)).toThrow(
      /suite "grid" expands to 120 runs under preset "quick", more than the limit of 119 \(benchmark "recall": 3 settings x 4 dims x 2 learning rates x 5 models\)\. Make its sweep smaller, or allow that many runs with --max-runs 120/,
    );
    expect(planSuite(mqar(3, 4, 2, 5), 'quick', 'cpu', 120)).toHaveLength(120);
    // Five million runs: expanding them took minutes and gigabytes; counting them does not.
    expect(() => planSuite(mqar(100, 100, 100, 5), 'quick', 'cpu')).toThrow(/expands to 5,000,000 runs under preset "quick", more than the limit of 10,000/);
    expect(MAX_RUNS).toBe(10_000);
  });
});
