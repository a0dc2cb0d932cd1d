import type { StackOptions } from '@shiftmix/core';

/** The name of a registered task (see `registerTask`): one this package ships (lm-char, lm-bpe, mqar, scaling, decode) or one of your own. */
export type TaskName = string;

/**
 * A model under test: core's stack options (a layer pattern resolved through the mixer
 * registry, and the options that differ between models), checked by core's
 * `checkStackOptions`. Everything else (width, heads, context) comes from the benchmark's
 * recipe, so the models of one benchmark share it.
 */
export interface ModelDefinition extends Partial<StackOptions> {
  /** Layer pattern, e.g. "hsm-ab*4,softmax-attention,hsm-ab". */
  layers: string;
  description?: string;
}

/** A recipe as a suite gives it: the fields its task defines (see `Task.recipe`). */
export type Recipe = object;

export interface Benchmark {
  name: string;
  task: TaskName;
  description?: string;
  /** For tasks that read a text file (lm-char): the file, relative to the suite file (default: the task's own). */
  data?: string;
  models: Record<string, ModelDefinition>;
  /** The recipe under each preset; missing fields come from the task's defaults. */
  presets: Record<string, Recipe>;
  /** Metrics shown in the table, in order; default: all of the task's. */
  metrics?: string[];
}

export interface Suite {
  name: string;
  description?: string;
  /** Seed of weights and data order, the same for every model of a benchmark. */
  seed: number;
  benchmarks: Benchmark[];
  /** The file the suite was read from, when it came from one. */
  source?: string;
}
