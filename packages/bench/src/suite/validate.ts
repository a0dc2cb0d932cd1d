import { isShiftmixError, ShiftmixError, type StackOptions } from '@shiftmix/core';
import { checkStackOptions, STACK_OPTIONS } from '@shiftmix/core/tooling';
import { getTask, hasTask, taskNames } from '../tasks/registry.js';
import type { Fail, Task } from '../tasks/types.js';
import { fieldProblem, isObject, type FieldSpec } from './fields.js';
import type { Benchmark, ModelDefinition, Recipe, Suite } from './types.js';

const SUITE_FIELDS = ['name', 'description', 'seed', 'benchmarks', '$schema'];
const BENCHMARK_FIELDS = ['name', 'task', 'description', 'data', 'models', 'presets', 'metrics'];
const MODEL_FIELDS = [...STACK_OPTIONS, 'description'];
const NAME = /^[a-z0-9][a-z0-9._-]*$/i;

type Obj = Record<string, unknown>;

/** Collects the place of a value in the suite file for error messages. */
class Checker {
  constructor(private readonly file: string) {}

  fail(where: string, problem: string, fix: string): never {
    throw new ShiftmixError(`${this.file}: ${where}: ${problem}`, fix, 'E_SUITE');
  }

  object(v: unknown, where: string): Obj {
    if (!isObject(v)) this.fail(where, `expected an object, got ${JSON.stringify(v)}`, 'See benchmarks/suites/default.json for the format');
    return v;
  }

  fields(o: Obj, allowed: readonly string[], where: string): void {
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) this.fail(where, `unknown field "${key}"`, `Allowed fields: ${allowed.join(', ')}`);
    }
  }

  /** A task's `fail`: the place is `where`, narrowed by the field the task names. */
  at(where: string): Fail {
    return (problem, fix, field) => this.fail(field ? `${where}.${field}` : where, problem, fix);
  }

  name(v: unknown, where: string): string {
    if (typeof v !== 'string' || !NAME.test(v)) this.fail(where, `${JSON.stringify(v)} is not a valid name`, 'Use letters, digits, ".", "_" and "-"');
    return v;
  }
}

// Recipe fields take the names train() uses; suites written before that get told the new name.
const RENAMED: Record<string, string> = { batchSize: 'batch', warmupSteps: 'warmup', gradClip: 'clip' };

function checkRecipe(c: Checker, task: Task, raw: unknown, where: string, benchmark: Benchmark): Recipe {
  const o = c.object(raw, where);
  const fields = task.recipe.fields as Record<string, FieldSpec>;
  for (const key of Object.keys(o)) {
    const renamed = RENAMED[key];
    if (renamed && renamed in fields)
      c.fail(where, `field "${key}" is now called "${renamed}", as in the recipe of train()`, `Rename "${key}" to "${renamed}"`);
  }
  c.fields(o, Object.keys(fields), where);
  for (const [key, value] of Object.entries(o)) {
    const wrong = fieldProblem(fields[key], value);
    if (wrong) c.fail(`${where}.${key}`, wrong.problem, wrong.fix);
  }
  // Cross-field rules are checked on the recipe with its defaults filled in.
  task.recipe.check?.({ ...task.recipe.defaults, ...o }, benchmark, c.at(where));
  return o;
}

/** A model definition: core's stack options (checked by core, as a model's config is), and a description. */
function checkModel(c: Checker, task: Task, raw: unknown, where: string): ModelDefinition {
  const o = c.object(raw, where);
  c.fields(o, MODEL_FIELDS, where);
  if (typeof o.layers !== 'string' || o.layers.trim() === '') {
    c.fail(where, 'missing "layers"', 'Give a layer pattern such as "hsm-ab*6" or "softmax-attention*6"');
  }
  try {
    checkStackOptions(o as Partial<StackOptions>, (key) => key);
  } catch (error) {
    if (isShiftmixError(error)) c.fail(where, error.problem, error.fix);
    throw error;
  }
  const definition = o as unknown as ModelDefinition;
  task.checkModel?.(definition, c.at(where));
  return definition;
}

function checkBenchmark(c: Checker, raw: unknown, where: string): Benchmark {
  const o = c.object(raw, where);
  c.fields(o, BENCHMARK_FIELDS, where);
  const name = c.name(o.name, `${where}.name`);
  const at = `benchmark "${name}"`;
  if (typeof o.task !== 'string' || !hasTask(o.task)) {
    c.fail(`${at}.task`, `unknown task ${JSON.stringify(o.task)}`, `Use one of ${taskNames().join(', ')}`);
  }
  const task = getTask(o.task);
  if (o.data !== undefined && (!task.dataFile || typeof o.data !== 'string')) {
    c.fail(
      `${at}.data`,
      task.dataFile ? 'expected a file path' : `task ${task.name} takes no data file`,
      'Give a text file relative to the folder of the suite file, or leave "data" out',
    );
  }
  const models = c.object(o.models, `${at}.models`);
  if (Object.keys(models).length === 0) c.fail(`${at}.models`, 'no models', 'Name at least one model');
  const checkedModels: Record<string, ModelDefinition> = {};
  for (const [key, def] of Object.entries(models)) {
    c.name(key, `${at}.models`);
    checkedModels[key] = checkModel(c, task, def, `${at}.models.${key}`);
  }
  const benchmark = { ...(o as unknown as Benchmark), name, task: task.name, models: checkedModels };
  const presets = c.object(o.presets, `${at}.presets`);
  if (Object.keys(presets).length === 0) c.fail(`${at}.presets`, 'no presets', 'Give at least a "quick" preset');
  const checkedPresets: Record<string, Recipe> = {};
  for (const [key, recipe] of Object.entries(presets)) {
    c.name(key, `${at}.presets`);
    checkedPresets[key] = checkRecipe(c, task, recipe, `${at}.presets.${key}`, benchmark);
  }
  if (o.metrics !== undefined) {
    if (!Array.isArray(o.metrics) || o.metrics.length === 0) c.fail(`${at}.metrics`, 'expected a non-empty list', 'List metric names');
    const known = task.metrics.map((m) => m.name);
    for (const m of o.metrics) {
      if (!known.includes(m as string))
        c.fail(`${at}.metrics`, `unknown metric ${JSON.stringify(m)} for task ${task.name}`, `Metrics of ${task.name}: ${known.join(', ')}`);
    }
  }
  return { ...benchmark, presets: checkedPresets };
}

/** Checks a parsed suite file; every error names the file, the place and the fix. */
export function validateSuite(raw: unknown, source = 'suite'): Suite {
  const c: Checker = new Checker(source);
  const o = c.object(raw, 'top level');
  c.fields(o, SUITE_FIELDS, 'top level');
  const name = c.name(o.name, 'name');
  const seed = o.seed ?? 1337;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0)
    c.fail('seed', `${JSON.stringify(seed)} is not an integer >= 0`, 'Give a seed such as 1337');
  if (!Array.isArray(o.benchmarks) || o.benchmarks.length === 0) c.fail('benchmarks', 'expected a non-empty list', 'List the benchmarks of the suite');
  const benchmarks = o.benchmarks.map((b, i) => checkBenchmark(c, b, `benchmarks[${i}]`));
  const seen = new Set<string>();
  for (const b of benchmarks) {
    if (seen.has(b.name)) c.fail('benchmarks', `two benchmarks are named "${b.name}"`, 'Give each benchmark its own name');
    seen.add(b.name);
  }
  return { name, description: o.description as string | undefined, seed, benchmarks };
}

/** The recipe of `benchmark` under `preset`, defaults filled in; an unknown preset is an error. */
export function resolveRecipe(benchmark: Benchmark, preset: string): Recipe {
  const recipe = benchmark.presets[preset];
  if (!recipe) {
    throw new ShiftmixError(
      `benchmark "${benchmark.name}" has no preset "${preset}"`,
      `Its presets: ${Object.keys(benchmark.presets).join(', ')}. Pick one with --preset, or leave the benchmark out with --only`,
      'E_PRESET',
    );
  }
  return { ...getTask(benchmark.task).recipe.defaults, ...recipe };
}

/** Every preset any benchmark of the suite defines. */
export function suitePresets(suite: Suite): string[] {
  return [...new Set(suite.benchmarks.flatMap((b) => Object.keys(b.presets)))];
}
