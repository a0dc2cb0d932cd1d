import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unregisterMixer } from '@shiftmix/core';
import { mergeResults } from './merge.js';
import { runSuite, type RunSuiteOptions } from './runner.js';
import { readFinishedRuns } from './store.js';
import { PREV_TOKEN_PLUGIN, tinySuite, writeTinyText } from './test-fixtures/tiny-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
writeTinyText(dir);
afterAll(() => {
  unregisterMixer('bench-prev-token');
  rmSync(dir, { recursive: true, force: true });
});

const run = (outDir: string, extra: Partial<RunSuiteOptions> = {}) =>
  runSuite({ suite: tinySuite(), preset: 'quick', backend: 'cpu', plugins: [PREV_TOKEN_PLUGIN], outDir: join(dir, outDir), cwd: dir, quiet: true, ...extra });
const merge = (outDir: string, from: string[]) =>
  mergeResults({ suite: tinySuite(), preset: 'quick', from: from.map((f) => join(dir, f)), outDir: join(dir, outDir), cwd: dir, quiet: true });
const losses = (outDir: string) =>
  Object.fromEntries(
    [...readFinishedRuns(join(dir, outDir)).values()].map((r) => [r.id, { hash: r.configHash, params: r.paramCount, loss: r.metrics.bestValLoss ?? null }]),
  );

describe('shards and mergeResults', () => {
  it('runs every N-th run per shard, and merges the shards into the results of one whole run', async () => {
    expect((await run('shard-1', { shard: { index: 1, count: 2 } })).ran).toEqual(['lm--p1', 'scale--p1']);
    const second = await run('shard-2', { shard: { index: 2, count: 2 } });
    expect(second.ran).toEqual(['lm--p2', 'dec--p1']);
    expect(second.pending).toEqual([]);

    const partial = merge('merged', ['shard-1']);
    expect(partial.ran).toEqual(['lm--p1', 'scale--p1']);
    expect(partial.pending).toEqual(['lm--p2', 'dec--p1']);
    const merged = merge('merged', ['shard-1', 'shard-2']);
    expect(merged.ran).toEqual(['lm--p2', 'dec--p1']);
    expect(merged.skipped).toEqual(['lm--p1', 'scale--p1']);
    expect(merged.pending).toEqual([]);
    expect(merged.benchmarks.map((b) => b.runs.length)).toEqual([2, 1, 1]);
    expect(readFileSync(merged.readme, 'utf8')).toMatch(/## lm \(lm-char\)[\s\S]*\| p1 \|[\s\S]*\| p2 \|[\s\S]*## scale[\s\S]*## dec/);

    await run('whole');
    expect(losses('merged')).toEqual(losses('whole'));
  });

  it('names folders without runs, runs of several backends, and folders of another suite', () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    expect(() => merge('m2', ['empty'])).toThrow(/empty has no runs\/ folder\. Give the results folders that the shards wrote/);
    cpSync(join(dir, 'shard-1'), join(dir, 'other-backend'), { recursive: true });
    const file = join(dir, 'other-backend', 'runs', 'lm--p1.json');
    const result = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...result, config: { ...result.config, backend: 'wasm' } }));
    expect(() => merge('m2', ['shard-2', 'other-backend'])).toThrow(
      /the folders hold runs of several backends \(cpu, wasm\)\. Merge the folders of one backend at a time/,
    );
    // Runs of another suite are left out; with none of this suite left, there is nothing to merge.
    writeFileSync(file, JSON.stringify({ ...result, suite: 'another' }));
    expect(merge('m2', ['other-backend']).ran).toEqual(['scale--p1']);
    rmSync(join(dir, 'other-backend', 'runs', 'scale--p1.json'));
    expect(() => merge('m3', ['other-backend'])).toThrow(/the folders hold no runs of suite "tiny", preset "quick"/);
  });
});
