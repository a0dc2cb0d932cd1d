import type { Environment } from '../environment.js';
import type { ChartHelpers, ChartSpec } from '../report/charts.js';
import type { MetricSpec } from '../report/format.js';
import type { DataPathHint } from '../suite/data.js';
import type { FieldSpec } from '../suite/fields.js';
import type { Benchmark, ModelDefinition, Recipe, Suite, TaskName } from '../suite/types.js';

/** One unit of work: a model under one setting of a benchmark; one JSON file when done. */
export interface RunPlan {
  /** File-name-safe id, unique within the suite: "lm-char--gpt", "mqar--gpt--T64-P4-D64-lr0.001". */
  id: string;
  benchmark: string;
  task: TaskName;
  model: string;
  definition: ModelDefinition;
  /** The benchmark-specific setting of this run (MQAR's seqLen, pairs, dim, lr); {} when none. */
  setting: Record<string, number>;
  recipe: Recipe;
  /** Rough relative cost, for the suite's ETA. */
  cost: number;
}

/** What a task reports while it runs. */
export interface RunTick {
  step: number;
  steps: number;
  loss?: number;
  valLoss?: number;
  /** Free text after the numbers, e.g. "T=4096". */
  note?: string;
}

export interface TaskContext {
  suite: Suite;
  benchmark: Benchmark;
  seed: number;
  /** Absolute folder of the suite file (relative data paths start here), or the working directory. */
  baseDir: string;
  tick(t: RunTick): void;
  signal?: AbortSignal;
  /** Threads that share each training step (core's train workers option). */
  workers: number;
}

/** A finished run's measurements. */
export interface RunOutcome {
  paramCount: number;
  metrics: Record<string, number>;
  /** Named curves as [x, y] pairs, e.g. valLossByStep, valLossBySeconds. */
  series: Record<string, [number, number][]>;
  /** Per-point measurements for tasks that sweep (scaling over T, decode over position). */
  rows?: Record<string, number>[];
  notes?: string[];
}

/** Says what is wrong with a recipe or a model and how to fix it; `field` narrows the place (e.g. "settings"). */
export type Fail = (problem: string, fix: string, field?: string) => never;

/** One axis a task's plan crosses with the benchmark's models, e.g. { size: 3, name: "settings" }. */
export interface SweepAxis {
  size: number;
  name: string;
}

/**
 * A benchmark task, everything about it in one object: what its recipe holds, what its runs
 * measure and how a report shows them, and how it plans and runs its runs. Register one
 * with `registerTask`; suites name it in a benchmark's "task".
 */
export interface Task<R extends object = object> {
  /** What a benchmark's "task" says; unique among the registered tasks. */
  name: TaskName;
  recipe: {
    /** Every field a preset may give, with how it is checked. */
    fields: Record<keyof R & string, FieldSpec>;
    /** The standard recipe; a preset's fields replace these. Field order is the order run files keep. */
    defaults: R;
    /**
     * Rules across fields, on a preset with the defaults filled in; `benchmark` holds the
     * checked models. `fail` names the first rule broken.
     */
    check?(recipe: R, benchmark: Benchmark, fail: Fail): void;
  };
  /** Checks a model of a benchmark beyond core's stack options (scaling: one layer). */
  checkModel?(definition: ModelDefinition, fail: Fail): void;
  /** The metrics of a run, in the table's default order. */
  metrics: MetricSpec[];
  /** The metric the results index shows per model, and what it is, e.g. "the best validation loss". */
  headline?: { metric: string; says: string };
  /**
   * For a task that reads a text file: the file a benchmark's runs read (its "data", see
   * `benchmarkDataPath`, or a default of the task). Only such tasks take "data"; the file is
   * checked before the first run, and sent with queued jobs when the suite names one.
   */
  dataFile?(benchmark: Benchmark, baseDir: string, hint?: DataPathHint): string;
  /** The axes `plan` crosses with the models; none: one run per model. Suites are counted from them before any run is built. */
  sweep?(recipe: R): SweepAxis[];
  plan(benchmark: Benchmark, recipe: R): RunPlan[];
  run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome>;
  /** The benchmark's Markdown table(s); default: one row per run, a column per metric. */
  table?(benchmark: Benchmark, results: RunResult[], metrics: MetricSpec[]): string;
  /** The benchmark's charts, from its finished runs in its model order; default: none. */
  charts?(results: RunResult[], chart: ChartHelpers): ChartSpec[];
}

/** The JSON file of one finished run. */
export interface RunResult extends RunOutcome {
  format: 1;
  id: string;
  configHash: string;
  suite: string;
  preset: string;
  benchmark: string;
  task: TaskName;
  model: string;
  layers: string;
  setting: Record<string, number>;
  /** Everything the hash covers: the model definition, the recipe, the setting, the seed, the backend. */
  config: Record<string, unknown>;
  environment: Environment;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}
