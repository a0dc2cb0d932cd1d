import { parseLayerPattern, selectBackend, type BackendName } from '@shiftmix/core';
import { describeEnvironment } from './environment.js';
import { SuiteEta } from './eta.js';
import { executeRun } from './execute.js';
import { finishSuite, type SuiteRunReport } from './finish.js';
import type { PlannedRun } from './plan.js';
import { loadMixerPlugins, registerShippedMixers } from '@shiftmix/core/plugins';
import { checkDataFiles, openSuite, prepareSuite, type SuiteTarget } from './prepare.js';
import { consoleProgress, type BenchEvent } from './progress.js';
import { readFinishedRuns, writeRun } from './store.js';

export { defaultResultsRoot } from './prepare.js';
export type { SuiteRunReport } from './finish.js';

export interface RunSuiteOptions extends SuiteTarget {
  /** Default "auto". */
  backend?: BackendName;
  /** Plugin modules to import first: file paths (./my-mixer.js) or package names. */
  plugins?: string[];
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

/**
 * Runs a benchmark suite: one JSON file per finished run in `outDir` (runs whose config
 * hash matches a finished one are skipped, so an interrupted suite resumes), then a
 * Markdown report with SVG charts. Returns what it wrote; prints the tables unless quiet.
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteRunReport> {
  const cwd = options.cwd ?? process.cwd();
  const opened = openSuite(options);
  const emit = options.onProgress ?? (options.quiet ? () => {} : consoleProgress());
  if (options.plugins?.length) await loadMixerPlugins(options.plugins, cwd);
  const info = await selectBackend(options.backend ?? 'auto');
  const environment = describeEnvironment(info, cwd, options.workers ?? 1);
  const prepared = prepareSuite(options, `${info.backend}${info.software ? '-software' : ''}`, opened);
  const { suite, preset, backendLabel, selected, outDir } = prepared;
  await registerShippedMixers(selected.flatMap((p) => parseLayerPattern(p.definition.layers, { checkRegistry: false })));
  for (const p of selected) parseLayerPattern(p.definition.layers);
  checkDataFiles(prepared, cwd);

  const finished = readFinishedRuns(outDir);
  const isDone = (p: PlannedRun) => !options.force && finished.get(p.id)?.configHash === p.hash;
  const toRun = selected.filter((p) => !isDone(p));
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
    const runStart = performance.now();
    emit({ type: 'run-start', plan, index, total });
    try {
      const result = await executeRun(plan, {
        suite,
        preset,
        benchmark: suite.benchmarks.find((b) => b.name === plan.benchmark)!,
        baseDir: prepared.baseDir,
        environment,
        workers: options.workers ?? 1,
        signal: options.signal,
        onTick: (tick, runEta, fraction) => {
          const seconds = (performance.now() - runStart) / 1000;
          emit({
            type: 'run-progress',
            plan,
            index,
            total,
            tick,
            runEta,
            suiteFraction: eta.fraction(plan, fraction),
            suiteEta: eta.eta(plan, fraction, seconds),
          });
        },
      });
      // A run cut short by the signal is not finished: the next call redoes it.
      if (options.signal?.aborted) break;
      writeRun(outDir, result);
      finished.set(result.id, result);
      eta.finish(plan, result.seconds);
      ran.push(plan.id);
      emit({ type: 'run-end', plan, index, total, result });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      failed.push({ id: plan.id, error: message });
      eta.finish(plan, (performance.now() - runStart) / 1000);
      emit({ type: 'run-fail', plan, index, total, error: message });
    }
  }

  const pending = selected.filter((p) => finished.get(p.id)?.configHash !== p.hash && !failed.some((f) => f.id === p.id)).map((p) => p.id);
  const report = finishSuite({ ...prepared, environment, finished, ran, skipped, failed, pending, json: options.json, quiet: options.quiet });
  emit({ type: 'suite-end', outDir, seconds: (performance.now() - started) / 1000, ran: ran.length, skipped: skipped.length });
  return report;
}
