import { dirname, join, relative, resolve } from 'node:path';
import { ShiftmixError, parseLayerPattern, selectBackend, type BackendName } from '@shiftmix/core';
import { describeEnvironment, type Environment } from './environment.js';
import { SuiteEta } from './eta.js';
import { configHash } from './hash.js';
import { loadPlugins, registerStandardMixers } from './plugins.js';
import { consoleProgress, type BenchEvent } from './progress.js';
import { writeReport, writeResultsIndex, type BenchmarkReport, type SuiteSummary } from './report/write.js';
import { readFinishedRuns, writeRun } from './store.js';
import { findUp } from './shipped.js';
import { loadSuite } from './suite/load.js';
import type { Suite } from './suite/types.js';
import { resolveRecipe, suitePresets, validateSuite } from './suite/validate.js';
import { TASKS } from './tasks/index.js';
import type { RunPlan, RunResult } from './tasks/types.js';

export interface RunSuiteOptions {
  /** A suite name (benchmarks/suites/NAME.json), a suite file path, or a parsed suite. */
  suite: string | Suite;
  /** Default "quick". */
  preset?: string;
  /** Default "auto". */
  backend?: BackendName;
  /** Run only these benchmarks (by benchmark or task name). */
  only?: string[];
  /** Run only these models (by the suite's model names). */
  models?: string[];
  /** Plugin modules to import first: file paths (./my-mixer.js) or package names. */
  plugins?: string[];
  /** Where run files and the report go. Default: RESULTS/BACKEND/SUITE-PRESET. */
  outDir?: string;
  /** Root of all results. Default: benchmarks/results next to a benchmarks/suites folder above `cwd` (a shiftmix checkout), else ./bench-results. */
  resultsRoot?: string;
  /** Folders searched for suite names first (then benchmarks/suites above `cwd`, then the suites this package ships). */
  suitesDirs?: string[];
  cwd?: string;
  /** Progress events; default: lines on stderr (none when `quiet`). */
  onProgress?: (event: BenchEvent) => void;
  /** Print the summary as JSON on stdout instead of the Markdown tables. */
  json?: boolean;
  /** Print nothing. */
  quiet?: boolean;
  /**
   * Threads that share each training step on the CPU backends (core's train workers
   * option). The results are those of one thread up to float rounding, so the runs' config
   * hashes do not include it. Default 1.
   */
  workers?: number;
  /** Redo runs even when a finished run with the same config exists. */
  force?: boolean;
  /** Stops after the current run; finished runs stay on disk and a later call resumes. */
  signal?: AbortSignal;
}

export interface SuiteRunReport {
  outDir: string;
  /** The report's Markdown file. */
  readme: string;
  backend: string;
  environment: Environment;
  benchmarks: BenchmarkReport[];
  summary: SuiteSummary;
  ran: string[];
  skipped: string[];
  failed: { id: string; error: string }[];
}

/** A suite given as an object is checked like a file; `source` (where it was read from) is kept. */
function checkedSuite(given: Suite): Suite {
  const { source, ...raw } = given;
  return { ...validateSuite(raw, source ?? `suite "${given.name}"`), source };
}

/** benchmarks/results of the repository the working directory is in, else ./bench-results. */
export function defaultResultsRoot(cwd: string): string {
  const suites = findUp(cwd, join('benchmarks', 'suites'));
  return suites ? join(dirname(suites), 'results') : resolve(cwd, 'bench-results');
}

interface PlannedRun extends RunPlan {
  hash: string;
}

function planSuite(suite: Suite, preset: string, backendLabel: string): PlannedRun[] {
  const plans: PlannedRun[] = [];
  for (const benchmark of suite.benchmarks) {
    if (!benchmark.presets[preset]) continue;
    const recipe = resolveRecipe(benchmark, preset);
    for (const plan of TASKS[benchmark.task].plan(benchmark, recipe)) {
      const hash = configHash({
        format: 1,
        task: plan.task,
        definition: plan.definition,
        recipe: plan.recipe,
        setting: plan.setting,
        seed: suite.seed,
        backend: backendLabel,
        data: benchmark.data ?? null,
      });
      plans.push({ ...plan, hash });
    }
  }
  return plans;
}

function select(suite: Suite, plans: PlannedRun[], preset: string, only?: string[], models?: string[]): PlannedRun[] {
  const benchmarks = suite.benchmarks.filter((b) => !only?.length || only.includes(b.name) || only.includes(b.task));
  for (const name of only ?? []) {
    if (!suite.benchmarks.some((b) => b.name === name || b.task === name)) {
      throw new ShiftmixError(`suite "${suite.name}" has no benchmark or task "${name}"`, `Its benchmarks: ${suite.benchmarks.map((b) => b.name).join(', ')}`, 'E_SELECT');
    }
  }
  const known = new Set(benchmarks.flatMap((b) => Object.keys(b.models)));
  for (const name of models ?? []) {
    if (!known.has(name)) throw new ShiftmixError(`no selected benchmark has a model "${name}"`, `Models: ${[...known].join(', ')}`, 'E_SELECT');
  }
  // A selected benchmark without the preset is an error, not a silent skip.
  for (const b of benchmarks) resolveRecipe(b, preset);
  const names = new Set(benchmarks.map((b) => b.name));
  return plans.filter((p) => names.has(p.benchmark) && (!models?.length || models.includes(p.model)));
}

/**
 * Runs a benchmark suite: one JSON file per finished run in `outDir` (runs whose config
 * hash matches a finished one are skipped, so an interrupted suite resumes), then a
 * Markdown report with SVG charts. Returns what it wrote; prints the tables unless quiet.
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteRunReport> {
  const cwd = options.cwd ?? process.cwd();
  const suite = typeof options.suite === 'string' ? loadSuite(options.suite, { cwd, suitesDirs: options.suitesDirs }) : checkedSuite(options.suite);
  const preset = options.preset ?? 'quick';
  const presets = suitePresets(suite);
  if (!presets.includes(preset)) {
    throw new ShiftmixError(`suite "${suite.name}" has no preset "${preset}"`, `Its presets: ${presets.join(', ')}`, 'E_PRESET');
  }
  const emit = options.onProgress ?? (options.quiet ? () => {} : consoleProgress());
  if (options.plugins?.length) await loadPlugins(options.plugins, cwd);
  const info = await selectBackend(options.backend ?? 'auto');
  const environment = describeEnvironment(info, cwd, options.workers ?? 1);
  const backendLabel = `${info.backend}${info.software ? '-software' : ''}`;
  const all = planSuite(suite, preset, backendLabel);
  const selected = select(suite, all, preset, options.only, options.models);
  await registerStandardMixers(selected.flatMap((p) => parseLayerPattern(p.definition.layers, { checkRegistry: false })));
  for (const p of selected) parseLayerPattern(p.definition.layers);

  const resultsRoot = resolve(cwd, options.resultsRoot ?? defaultResultsRoot(cwd));
  const outDir = resolve(cwd, options.outDir ?? join(resultsRoot, backendLabel, `${suite.name}-${preset}`));
  const finished = readFinishedRuns(outDir);
  const isDone = (p: PlannedRun) => !options.force && finished.get(p.id)?.configHash === p.hash;
  const toRun = selected.filter((p) => !isDone(p));
  const baseDir = suite.source ? dirname(suite.source) : cwd;
  const eta = new SuiteEta(toRun);
  const started = performance.now();
  const ran: string[] = [];
  const skipped: string[] = [];
  const failed: { id: string; error: string }[] = [];
  emit({ type: 'suite-start', suite: suite.name, preset, backend: backendLabel, outDir, total: selected.length, toRun: toRun.length });

  for (const [index, plan] of selected.entries()) {
    const total = selected.length;
    if (isDone(plan)) {
      skipped.push(plan.id);
      emit({ type: 'run-skip', plan, index, total });
      continue;
    }
    // Tasks resolve their promises without returning to the event loop; a turn here lets
    // signal handlers and timers run between runs.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) break;
    const benchmark = suite.benchmarks.find((b) => b.name === plan.benchmark)!;
    const runStart = performance.now();
    const startedAt = new Date().toISOString();
    emit({ type: 'run-start', plan, index, total });
    try {
      const outcome = await TASKS[plan.task].run(plan, {
        suite,
        benchmark,
        seed: suite.seed,
        baseDir,
        signal: options.signal,
        workers: options.workers ?? 1,
        tick: (tick) => {
          const fraction = tick.steps > 0 ? tick.step / tick.steps : 0;
          const seconds = (performance.now() - runStart) / 1000;
          emit({
            type: 'run-progress',
            plan,
            index,
            total,
            tick,
            runEta: fraction > 0 ? (seconds / fraction) * (1 - fraction) : undefined,
            suiteFraction: eta.fraction(plan, fraction),
            suiteEta: eta.eta(plan, fraction, seconds),
          });
        },
      });
      // A run cut short by the signal is not finished: the next call redoes it.
      if (options.signal?.aborted) break;
      const seconds = (performance.now() - runStart) / 1000;
      const { hash, cost: _cost, recipe, definition, ...rest } = plan;
      const result: RunResult = {
        format: 1,
        id: rest.id,
        configHash: hash,
        suite: suite.name,
        preset,
        benchmark: rest.benchmark,
        task: rest.task,
        model: rest.model,
        layers: definition.layers,
        setting: rest.setting,
        config: { definition, recipe, setting: rest.setting, seed: suite.seed, backend: backendLabel, data: benchmark.data ?? null },
        ...outcome,
        environment,
        startedAt,
        finishedAt: new Date().toISOString(),
        seconds,
      };
      writeRun(outDir, result);
      finished.set(result.id, result);
      eta.finish(plan, seconds);
      ran.push(plan.id);
      emit({ type: 'run-end', plan, index, total, result });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      failed.push({ id: plan.id, error: message });
      eta.finish(plan, (performance.now() - runStart) / 1000);
      if (!options.quiet) process.stderr.write(`[${index + 1}/${total}] ${plan.id} failed: ${message}\n`);
    }
  }

  const results = new Map<string, RunResult[]>();
  for (const p of all) {
    const r = finished.get(p.id);
    if (r && r.configHash === p.hash) results.set(p.benchmark, [...(results.get(p.benchmark) ?? []), r]);
  }
  const report = writeReport({ outDir, suite, preset, backendLabel, environment, results });
  if (!relative(resultsRoot, outDir).startsWith('..')) writeResultsIndex(resultsRoot);
  emit({ type: 'suite-end', outDir, seconds: (performance.now() - started) / 1000, ran: ran.length, skipped: skipped.length });

  if (!options.quiet) {
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...report.summary, outDir, ran, skipped, failed }, null, 2)}\n`);
    } else {
      const parts = report.benchmarks.map((b) => `## ${b.name} (${b.task})\n\n${b.table}\n\ncharts:\n${b.charts.map((c) => `  ${c}`).join('\n')}`);
      if (failed.length) parts.push(`failed runs:\n${failed.map((f) => `  ${f.id}: ${f.error}`).join('\n')}`);
      parts.push(`report: ${report.readme}`);
      process.stdout.write(`\n${parts.join('\n\n')}\n`);
    }
  }
  return { outDir, readme: report.readme, backend: backendLabel, environment, benchmarks: report.benchmarks, summary: report.summary, ran, skipped, failed };
}
