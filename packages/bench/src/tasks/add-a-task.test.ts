import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMixer, unregisterMixer } from '@shiftmix/core';
import { checkSuiteSize, planSuite } from '../plan.js';
import { benchJob, jobDataFile } from '../queue/jobs.js';
import { runSuite } from '../runner.js';
import { readSuiteFile } from '../suite/load.js';
import { prevTokenSpec } from '../test-fixtures/prev-token-plugin.js';
import { writeTinyText } from '../test-fixtures/tiny-suite.js';
import { FIXTURE_TASKS } from './fixtures/untrained/index.js';
import { BUILT_IN_TASKS } from './index.js';
import { getTask, registerTask, unregisterTask } from './registry.js';
import type { RunResult } from './types.js';

const src = fileURLToPath(new URL('..', import.meta.url));
const fixtureDir = fileURLToPath(new URL('./fixtures/untrained/', import.meta.url));
const developing = fileURLToPath(new URL('../../../../DEVELOPING.md', import.meta.url));
const [task] = FIXTURE_TASKS;

// The suite file is copied beside its text, as "data" is read relative to the suite file.
const dir = mkdtempSync(join(tmpdir(), 'bench-new-task-'));
const suiteFile = join(dir, 'default.json');
copyFileSync(join(fixtureDir, 'default.json'), suiteFile);
writeTinyText(dir);

beforeAll(() => registerMixer(prevTokenSpec));
afterAll(() => {
  unregisterMixer(prevTokenSpec.name);
  unregisterTask(task.name);
  rmSync(dir, { recursive: true, force: true });
});

/** The files DEVELOPING's "A benchmark task" says a task takes: the backquoted paths of its bullet. */
function listedFiles(): string[] {
  const bullet = /- \*\*A benchmark task\*\*:([\s\S]*?)\n- \*\*/.exec(readFileSync(developing, 'utf8'))![1];
  return [...bullet.matchAll(/`([\w./-]+\.(?:ts|json))`/g)].map((m) => m[1]);
}

describe('adding a benchmark task', () => {
  it("takes the files DEVELOPING lists, which the fixture task's folder holds and nothing else", () => {
    const listed = listedFiles();
    expect(listed).toEqual(['packages/bench/src/tasks/NAME.ts', 'tasks/index.ts', 'benchmarks/suites/default.json']);
    const asFixture = listed.map((path) => path.split('/').pop()!.replace('NAME', task.name));
    expect(readdirSync(fixtureDir).sort()).toEqual(asFixture.sort());
  });

  it('is a name the suite refuses until the task is registered', () => {
    expect(() => readSuiteFile(suiteFile)).toThrow(/unknown task "untrained"\. Use one of lm-char, lm-bpe, mqar, scaling, decode$/);
    for (const t of FIXTURE_TASKS) registerTask(t);
    expect(getTask('untrained')).toBe(task);
    // Registering it again changes nothing; another task under its name is refused.
    expect(() => registerTask(task)).not.toThrow();
    expect(() => registerTask({ ...task })).toThrow(/a task named "untrained" is registered already/);
    expect(() => readSuiteFile(suiteFile)).not.toThrow();
  });

  it('is refused when its object cannot serve as a task, naming what it lacks', () => {
    const other = { ...task, name: 'other' };
    expect(() => registerTask({ ...other, name: 'Other Task' })).toThrow(/has no valid name/);
    expect(() => registerTask({ ...other, metrics: [] })).toThrow(/task "other" names no metrics/);
    expect(() => registerTask({ ...other, headline: { metric: 'nope', says: '' } })).toThrow(/headline "nope", which is not one of its metrics/);
    expect(() => registerTask({ ...other, recipe: { ...other.recipe, fields: { dim: 'positiveInt' } as never } })).toThrow(/default for "heads" but no field/);
    expect(() => getTask('other')).toThrow(/unknown task "other"\. Registered tasks: lm-char, lm-bpe, mqar, scaling, decode, untrained/);
  });

  it("checks presets with the task's fields and plans one run per model, counted before they are built", () => {
    const suite = readSuiteFile(suiteFile);
    const plans = planSuite(suite, 'quick', 'cpu');
    expect(plans.map((p) => p.id)).toEqual(['untrained--p1', 'untrained--p2']);
    expect(checkSuiteSize(suite, 'quick')).toBe(plans.length);
    expect(plans[0].config).toMatchObject({ recipe: { dim: 8, heads: 1, contextLength: 8, windows: 3 }, data: 'text.txt', seed: 7 });
    const bad = JSON.parse(readFileSync(suiteFile, 'utf8'));
    bad.benchmarks[0].presets.quick.windows = 0;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    expect(() => readSuiteFile(join(dir, 'bad.json'))).toThrow(/benchmark "untrained"\.presets\.quick\.windows: 0 is not a positive integer/);
  });

  it('queues its runs with their data file', () => {
    const suite = readSuiteFile(suiteFile);
    const [run] = planSuite(suite, 'quick', 'cpu');
    const benchmark = suite.benchmarks[0];
    expect(jobDataFile(benchmark, dir)).toBe(join(dir, 'text.txt'));
    const data = { key: 'shiftmix:data:abc', sha256: 'abc', name: 'text.txt', bytes: 880 };
    expect(benchJob(run, suite, 'quick', benchmark, data)).toEqual({ format: 1, run, suite: { name: 'fixture', seed: 7 }, preset: 'quick', benchmark, data });
  });

  it('runs and writes its table, chart, run files and headline', async () => {
    const outDir = join(dir, 'results', 'cpu', 'fixture-quick');
    const report = await runSuite({ suite: suiteFile, preset: 'quick', backend: 'cpu', cwd: dir, outDir, resultsRoot: join(dir, 'results'), quiet: true });
    expect(report.failed).toEqual([]);
    expect(report.ran).toEqual(['untrained--p1', 'untrained--p2']);
    const run = JSON.parse(readFileSync(join(outDir, 'runs', 'untrained--p1.json'), 'utf8')) as RunResult;
    expect(run.task).toBe('untrained');
    expect(Object.keys(run.metrics)).toEqual(['loss', 'uniformLoss']);
    // An untrained model is about as unsure as a uniform guess.
    expect(Math.abs(run.metrics.loss - run.metrics.uniformLoss)).toBeLessThan(1);
    expect(run.series.lossByWindow.map(([w]) => w)).toEqual([1, 2, 3]);
    const readme = readFileSync(report.readme, 'utf8');
    expect(readme).toContain('## untrained (untrained)');
    expect(readme).toContain('| model | layers | params | initial loss | ln(vocab) |');
    expect(readme).toMatch(/\| p1 \| bench-prev-token\*2 \| [\d.]+k? \| \d\.\d{4} \| \d\.\d{4} \|/);
    expect(report.benchmarks[0].charts.map((c) => relative(outDir, c))).toEqual([join('charts', 'untrained-loss-by-window.svg')]);
    expect(readFileSync(report.benchmarks[0].charts[0], 'utf8')).toContain('untrained: loss before training per window (cpu, quick)');
    const index = readFileSync(join(dir, 'results', 'README.md'), 'utf8');
    expect(index).toMatch(/\| p1 \d\.\d{4}, p2 \d\.\d{4} \|/);
    expect(index).toContain(
      'The headline is the best validation loss of lm-char, or the best validation bits per byte of lm-bpe, or the loss before training of untrained per model.',
    );
  });
});

describe('the code around the tasks', () => {
  // Everything about a task lives in its object: the suite, plan, report and queue code name none.
  it('never names a task', () => {
    const names = BUILT_IN_TASKS.map((t) => t.name);
    const generic = (folder: string): string[] =>
      readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) return entry.name === 'tasks' || entry.name === 'test-fixtures' ? [] : generic(path);
        return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
      });
    const files = generic(src);
    expect(files.map((f) => relative(src, f))).toContain(join('report', 'tables.ts'));
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      for (const name of names) expect(code, `${relative(src, file)} names the task ${name}`).not.toMatch(new RegExp(`['"\`]${name}['"\`]`));
      expect(code, `${relative(src, file)} tells tasks apart by name`).not.toMatch(/(?<!typeof \w+)\.task\s*[!=]==\s*['"`]|switch\s*\([^)]*\.task\)/);
    }
  });
});
