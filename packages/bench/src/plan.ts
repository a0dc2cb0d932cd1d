import { ShiftmixError } from '@shiftmix/core';
import { configHash } from './hash.js';
import type { Suite } from './suite/types.js';
import { resolveRecipe } from './suite/validate.js';
import { getTask } from './tasks/registry.js';
import type { RunPlan } from './tasks/types.js';

/** Everything a run's config hash covers; stored with its result as `config`. */
export interface RunConfig {
  definition: RunPlan['definition'];
  recipe: RunPlan['recipe'];
  setting: Record<string, number>;
  seed: number;
  /** Backend label: the backend name, with "-software" for a software adapter. */
  backend: string;
  /** The benchmark's data file as the suite names it (relative to the suite file), or null. */
  data: string | null;
}

/** A run of a suite with the key finished runs and queued jobs are matched by. */
export interface PlannedRun extends RunPlan {
  hash: string;
  config: RunConfig;
}

/** Every N-th run of a suite: shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** How many runs a suite may expand to unless told otherwise (`maxRuns`, `shiftmix bench --max-runs`). */
export const MAX_RUNS = 10_000;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * How many runs the suite has under `preset`, counted from its grids' sizes without
 * building them; more than `maxRuns` is an error that names the count and the largest sweep.
 */
export function checkSuiteSize(suite: Suite, preset: string, maxRuns = MAX_RUNS): number {
  let total = 0;
  let largest = { name: '', runs: 0, how: '' };
  for (const benchmark of suite.benchmarks) {
    if (!benchmark.presets[preset]) continue;
    const models = Object.keys(benchmark.models).length;
    const axes = getTask(benchmark.task).sweep?.(resolveRecipe(benchmark, preset)) ?? [];
    const runs = axes.reduce((n, axis) => n * axis.size, models);
    total += runs;
    if (runs > largest.runs) largest = { name: benchmark.name, runs, how: [...axes.map((a) => `${a.size} ${a.name}`), `${models} models`].join(' x ') };
  }
  if (total > maxRuns) {
    throw new ShiftmixError(
      `suite "${suite.name}" expands to ${count(total)} runs under preset "${preset}", more than the limit of ${count(maxRuns)} (benchmark "${largest.name}"${largest.runs < total ? ` alone has ${count(largest.runs)}` : ''}: ${largest.how})`,
      `Make its sweep smaller, or allow that many runs with --max-runs ${total} (maxRuns in @shiftmix/bench)`,
      'E_SUITE_SIZE',
    );
  }
  return total;
}

/**
 * Every run of every benchmark of `suite` that has `preset`, in suite order. A suite of
 * more than `maxRuns` runs (default MAX_RUNS) is refused before any is built: a grid
 * made too large by mistake would otherwise take minutes and gigabytes to expand.
 */
export function planSuite(suite: Suite, preset: string, backendLabel: string, maxRuns = MAX_RUNS): PlannedRun[] {
  checkSuiteSize(suite, preset, maxRuns);
  const plans: PlannedRun[] = [];
  for (const benchmark of suite.benchmarks) {
    if (!benchmark.presets[preset]) continue;
    const recipe = resolveRecipe(benchmark, preset);
    for (const plan of getTask(benchmark.task).plan(benchmark, recipe)) {
      const config: RunConfig = {
        definition: plan.definition,
        recipe: plan.recipe,
        setting: plan.setting,
        seed: suite.seed,
        backend: backendLabel,
        data: benchmark.data ?? null,
      };
      plans.push({ ...plan, hash: configHash({ format: 1, task: plan.task, ...config }), config });
    }
  }
  return plans;
}

export interface Selection {
  /** Only these benchmarks (by benchmark or task name). */
  only?: string[];
  /** Only these models (by the suite's model names). */
  models?: string[];
  shard?: Shard;
}

/** The planned runs a selection keeps; unknown benchmark or model names are errors. */
export function selectRuns(suite: Suite, plans: PlannedRun[], preset: string, { only, models, shard }: Selection): PlannedRun[] {
  const benchmarks = suite.benchmarks.filter((b) => !only?.length || only.includes(b.name) || only.includes(b.task));
  for (const name of only ?? []) {
    if (!suite.benchmarks.some((b) => b.name === name || b.task === name)) {
      throw new ShiftmixError(
        `suite "${suite.name}" has no benchmark or task "${name}"`,
        `Its benchmarks: ${suite.benchmarks.map((b) => b.name).join(', ')}`,
        'E_SELECT',
      );
    }
  }
  const known = new Set(benchmarks.flatMap((b) => Object.keys(b.models)));
  for (const name of models ?? []) {
    if (!known.has(name)) throw new ShiftmixError(`no selected benchmark has a model "${name}"`, `Models: ${[...known].join(', ')}`, 'E_SELECT');
  }
  // A selected benchmark without the preset is an error, not a silent skip.
  for (const b of benchmarks) resolveRecipe(b, preset);
  const names = new Set(benchmarks.map((b) => b.name));
  const selected = plans.filter((p) => names.has(p.benchmark) && (!models?.length || models.includes(p.model)));
  // Round robin over the suite order: shards stay balanced when costs grow along a sweep.
  return shard ? selected.filter((_, i) => i % shard.count === shard.index - 1) : selected;
}

/** Parses "K/N" (1 <= K <= N). */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new ShiftmixError(
      `shard "${text}" is not of the form K/N with 1 <= K <= N`,
      'Write e.g. --shard 1/3 on the first of three machines, --shard 2/3 on the second',
      'E_SHARD',
    );
  }
  return { index, count };
}
