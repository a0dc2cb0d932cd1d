import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerMixer, unregisterMixer } from '@shiftmix/core';
import type { BenchEvent } from './progress.js';
import { runSuite, type RunSuiteOptions } from './runner.js';
import { prevTokenSpec } from './test-fixtures/prev-token-plugin.js';
import { PREV_TOKEN_PLUGIN, tinySuite, writeTinyText } from './test-fixtures/tiny-suite.js';
import type { RunResult } from './tasks/types.js';

const plugin = PREV_TOKEN_PLUGIN;
const suite = tinySuite;
const dir = mkdtempSync(join(tmpdir(), 'bench-runner-'));
writeTinyText(dir);
afterAll(() => {
  unregisterMixer('bench-prev-token');
  rmSync(dir, { recursive: true, force: true });
});

async function run(extra: Partial<RunSuiteOptions> = {}) {
  const events: BenchEvent[] = [];
  const report = await runSuite({
    suite: suite(),
    preset: 'quick',
    backend: 'cpu',
    plugins: [plugin],
    outDir: join(dir, 'out'),
    cwd: dir,
    quiet: true,
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return { report, events };
}

const readRun = (id: string) => JSON.parse(readFileSync(join(dir, 'out', 'runs', `${id}.json`), 'utf8')) as RunResult;

describe('runSuite', () => {
  it('runs every benchmark with a mixer from a plugin file and writes runs, tables and charts', async () => {
    const { report, events } = await run();
    expect(report.failed).toEqual([]);
    expect(report.ran).toEqual(['lm--p1', 'lm--p2', 'scale--p1', 'dec--p1']);
    const lm = readRun('lm--p1');
    expect(lm.layers).toBe('bench-prev-token*2');
    expect(lm.environment.backend).toBe('cpu');
    expect(lm.environment.software).toBe(false);
    expect(lm.paramCount).toBeGreaterThan(0);
    expect(lm.metrics.bestValLoss).toBeGreaterThan(0);
    expect(lm.series.valLossByStep.map(([step]) => step)).toEqual([3]);
    // Same seed and recipe for both models: the same tokens, in the same order.
    expect(readRun('lm--p2').config.seed).toBe(lm.config.seed);
    expect(readRun('lm--p2').paramCount).toBeLessThan(lm.paramCount);
    expect(readRun('scale--p1').rows!.map((r) => r.seqLen)).toEqual([8, 16]);
    expect(readRun('scale--p1').paramCount).toBe(16);
    expect(readRun('dec--p1').rows!.map((r) => r.position)).toEqual([3, 6]);
    const readme = readFileSync(report.readme, 'utf8');
    expect(readme).toContain('bench-prev-token*2');
    expect(readme).toContain('| p1 |');
    for (const chart of report.benchmarks.flatMap((b) => b.charts)) expect(readFileSync(chart, 'utf8')).toContain('data-name="p1');
    expect(report.benchmarks.flatMap((b) => b.charts).map((c) => c.split('/').pop())).toEqual([
      'lm-val-loss-vs-step.svg',
      'lm-val-loss-vs-time.svg',
      'scale-time.svg',
      'scale-memory.svg',
      'dec-latency.svg',
      'dec-state.svg',
    ]);
    expect(events.filter((e) => e.type === 'run-progress').length).toBeGreaterThan(0);
  });

  it('skips finished runs and redoes only what is missing or changed', async () => {
    const before = ['summary.json', 'README.md'].map((f) => readFileSync(join(dir, 'out', f), 'utf8'));
    const again = await run();
    expect(again.report.ran).toEqual([]);
    expect(again.report.skipped).toHaveLength(4);
    expect(again.report.benchmarks.map((b) => b.runs.length)).toEqual([2, 1, 1]);
    // Nothing ran, so the report still describes the runs it reports: the same files.
    expect(['summary.json', 'README.md'].map((f) => readFileSync(join(dir, 'out', f), 'utf8'))).toEqual(before);

    rmSync(join(dir, 'out', 'runs', 'lm--p2.json'));
    expect((await run()).report.ran).toEqual(['lm--p2']);

    const changed = await run({ suite: suite(32) });
    expect(changed.report.ran).toEqual(['scale--p1']);
    expect(readRun('scale--p1').rows!.map((r) => r.seqLen)).toEqual([8, 16, 32]);
  });

  it('selects benchmarks and models, and names unknown ones', async () => {
    const { report } = await run({ only: ['decode'], force: true });
    expect(report.ran).toEqual(['dec--p1']);
    expect((await run({ models: ['p2'], force: true })).report.ran).toEqual(['lm--p2']);
    await expect(run({ only: ['nope'] })).rejects.toThrow(/no benchmark or task "nope"/);
    await expect(run({ models: ['gpt'] })).rejects.toThrow(/no selected benchmark has a model "gpt"/);
    await expect(run({ preset: 'standard' })).rejects.toThrow(/has no preset "standard"/);
    expect(existsSync(join(dir, 'out', 'summary.json'))).toBe(true);
  });

  it("leads the report with the folder's hand-written FINDINGS.md, which reruns keep", async () => {
    writeFileSync(join(dir, 'out', 'FINDINGS.md'), 'p2 beats p1 here.\n');
    const { report } = await run();
    const readme = readFileSync(report.readme, 'utf8');
    expect(readme).toMatch(/## What these results show\n\np2 beats p1 here\.\n\n## lm \(lm-char\)/);
    expect(readFileSync(join(dir, 'out', 'FINDINGS.md'), 'utf8')).toBe('p2 beats p1 here.\n');
  });

  it('reports a failing run with its error, as an event too, and runs the rest', async () => {
    registerMixer({
      ...prevTokenSpec,
      name: 'bench-broken',
      create: () => {
        throw new Error('cannot build this mixer');
      },
    });
    const broken = suite();
    broken.benchmarks[0].models.p2 = { layers: 'bench-broken' };
    const { report, events } = await run({ suite: broken, outDir: join(dir, 'broken') });
    unregisterMixer('bench-broken');
    expect(report.failed).toEqual([{ id: 'lm--p2', error: expect.stringContaining('cannot build this mixer') }]);
    expect(report.ran).toEqual(['lm--p1', 'scale--p1', 'dec--p1']);
    expect(events.filter((e) => e.type === 'run-fail').map((e) => e.type === 'run-fail' && [e.plan.id, e.index, e.error])).toEqual([
      ['lm--p2', 1, report.failed[0].error],
    ]);
  });
});
