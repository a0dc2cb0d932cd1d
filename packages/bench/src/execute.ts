import type { Environment } from './environment.js';
import type { PlannedRun } from './plan.js';
import type { Benchmark, Suite } from './suite/types.js';
import { getTask } from './tasks/registry.js';
import type { RunResult, RunTick } from './tasks/types.js';

export interface ExecuteContext {
  /** The suite the run belongs to; a queued job carries its name and seed. `source` tells a task that reads data where `baseDir` came from. */
  suite: Pick<Suite, 'name' | 'seed' | 'source'>;
  preset: string;
  /** The run's benchmark; its `data` is relative to `baseDir`. */
  benchmark: Benchmark;
  baseDir: string;
  environment: Environment;
  workers: number;
  signal?: AbortSignal;
  /** Every tick of the task, with the seconds left in the run once they can be estimated. */
  onTick?: (tick: RunTick, runEta: number | undefined, fraction: number) => void;
}

/**
 * Runs one planned run and returns its result file's content. Local suites and queue
 * workers both run through here, so a run gives the same result wherever it ran.
 */
export async function executeRun(run: PlannedRun, ctx: ExecuteContext): Promise<RunResult> {
  const runStart = performance.now();
  const startedAt = new Date().toISOString();
  const suite: Suite = { name: ctx.suite.name, seed: ctx.suite.seed, benchmarks: [ctx.benchmark], source: ctx.suite.source };
  const outcome = await getTask(run.task).run(run, {
    suite,
    benchmark: ctx.benchmark,
    seed: ctx.suite.seed,
    baseDir: ctx.baseDir,
    signal: ctx.signal,
    workers: ctx.workers,
    tick: (tick) => {
      const fraction = tick.steps > 0 ? tick.step / tick.steps : 0;
      const seconds = (performance.now() - runStart) / 1000;
      ctx.onTick?.(tick, fraction > 0 ? (seconds / fraction) * (1 - fraction) : undefined, fraction);
    },
  });
  return {
    format: 1,
    id: run.id,
    configHash: run.hash,
    suite: ctx.suite.name,
    preset: ctx.preset,
    benchmark: run.benchmark,
    task: run.task,
    model: run.model,
    layers: run.definition.layers,
    setting: run.setting,
    config: { ...run.config },
    ...outcome,
    environment: ctx.environment,
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - runStart) / 1000,
  };
}

/**
 * A result under the name a suite gives its run. Runs of equal config share one hash
 * (and one queued job) even across suites; each suite files the result under its own ids.
 */
export function asRunOf(result: RunResult, run: PlannedRun, suiteName: string, preset: string): RunResult {
  return { ...result, id: run.id, suite: suiteName, preset, benchmark: run.benchmark, model: run.model };
}
