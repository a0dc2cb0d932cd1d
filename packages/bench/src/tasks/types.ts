import type { Environment } from '../environment.js';
import type { AnyRecipe, Benchmark, ModelDefinition, Suite, TaskName } from '../suite/types.js';

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
  recipe: AnyRecipe;
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

export interface Task {
  name: TaskName;
  plan(benchmark: Benchmark, recipe: AnyRecipe): RunPlan[];
  /** How many runs `plan` returns, without building them (the product of the sweep's sizes). */
  count(benchmark: Benchmark, recipe: AnyRecipe): number;
  run(plan: RunPlan, ctx: TaskContext): Promise<RunOutcome>;
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
