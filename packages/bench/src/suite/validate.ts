import { parseLayerParts, ShiftmixError, type LayerPart } from '@shiftmix/core';
import { RECIPE_DEFAULTS, RECIPE_FIELDS, TASK_METRICS, type FieldKind } from './recipes.js';
import { TASK_NAMES, type AnyRecipe, type Benchmark, type ModelDefinition, type Suite, type TaskName } from './types.js';

const SUITE_FIELDS = ['name', 'description', 'seed', 'benchmarks', '$schema'];
const BENCHMARK_FIELDS = ['name', 'task', 'description', 'data', 'models', 'presets', 'metrics'];
const MODEL_FIELDS = ['layers', 'ffn', 'mixers', 'positional', 'schedule', 'description'];
const NAME = /^[a-z0-9][a-z0-9._-]*$/i;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

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

  name(v: unknown, where: string): string {
    if (typeof v !== 'string' || !NAME.test(v)) this.fail(where, `${JSON.stringify(v)} is not a valid name`, 'Use letters, digits, ".", "_" and "-"');
    return v;
  }
}

function checkKind(c: Checker, v: unknown, kind: FieldKind, where: string): void {
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  const posInt = (x: unknown) => num(x) && Number.isInteger(x) && (x as number) > 0;
  const ok: Record<FieldKind, () => boolean> = {
    positiveInt: () => posInt(v),
    nonNegativeInt: () => num(v) && Number.isInteger(v) && (v as number) >= 0,
    positive: () => num(v) && (v as number) > 0,
    nonNegative: () => num(v) && (v as number) >= 0,
    fraction: () => num(v) && (v as number) >= 0 && (v as number) < 1,
    positiveIntList: () => Array.isArray(v) && v.length > 0 && v.every(posInt),
    positiveOrList: () => (num(v) && (v as number) > 0) || (Array.isArray(v) && v.length > 0 && v.every((x) => num(x) && x > 0)),
    mqarSettings: () =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((s) => isObject(s) && Object.keys(s).every((k) => k === 'seqLen' || k === 'pairs') && posInt(s.seqLen) && posInt(s.pairs)),
    layerPatterns: () => isObject(v) && Object.values(v).every((p) => typeof p === 'string' && p.trim() !== ''),
  };
  const expected: Record<FieldKind, string> = {
    positiveInt: 'a positive integer',
    nonNegativeInt: 'an integer >= 0',
    positive: 'a number > 0',
    nonNegative: 'a number >= 0',
    fraction: 'a number in [0, 1)',
    positiveIntList: 'a non-empty list of positive integers',
    positiveOrList: 'a number > 0 or a non-empty list of them',
    mqarSettings: 'a non-empty list of { "seqLen": int, "pairs": int }',
    layerPatterns: 'an object of layer patterns by model name, e.g. { "gpt": "softmax-attention*4" }',
  };
  if (!ok[kind]()) c.fail(where, `${JSON.stringify(v)} is not ${expected[kind]}`, `Give ${expected[kind]}`);
}

// Recipe fields take the names train() uses; suites written before that get told the new name.
const RENAMED: Record<string, string> = { batchSize: 'batch', warmupSteps: 'warmup', gradClip: 'clip' };

function checkRecipe(c: Checker, task: TaskName, raw: unknown, where: string): Partial<AnyRecipe> {
  const o = c.object(raw, where);
  const fields = RECIPE_FIELDS[task];
  for (const key of Object.keys(o)) {
    const renamed = RENAMED[key];
    if (renamed && renamed in fields)
      c.fail(where, `field "${key}" is now called "${renamed}", as in the recipe of train()`, `Rename "${key}" to "${renamed}"`);
  }
  c.fields(o, Object.keys(fields), where);
  for (const [key, value] of Object.entries(o)) checkKind(c, value, fields[key], `${where}.${key}`);
  // Cross-field rules are checked on the recipe with its defaults filled in.
  const full = { ...RECIPE_DEFAULTS[task], ...o } as Record<string, unknown>;
  if (task === 'lm-char' && (full.minLr as number) > (full.lr as number))
    c.fail(where, `minLr ${full.minLr} is above lr ${full.lr}`, 'Give a floor below the peak rate');
  if (task === 'scaling' && (full.minSeqLen as number) > (full.maxSeqLen as number)) {
    c.fail(where, `minSeqLen ${full.minSeqLen} is above maxSeqLen ${full.maxSeqLen}`, 'Give minSeqLen <= maxSeqLen');
  }
  if (task === 'mqar') {
    const v = full.vocabSize as number;
    for (const s of full.settings as { seqLen: number; pairs: number }[]) {
      // Zoology's constraints: room for the queries after the pairs, and more tokens than positions.
      if (s.seqLen % 2 !== 0) c.fail(`${where}.settings`, `seqLen ${s.seqLen} is odd`, 'Use an even sequence length');
      if (s.pairs * 4 > s.seqLen)
        c.fail(`${where}.settings`, `${s.pairs} pairs need seqLen >= ${s.pairs * 4}, got ${s.seqLen}`, 'Use fewer pairs or a longer sequence');
      if (s.pairs > v / 2 - 1) c.fail(`${where}.settings`, `${s.pairs} pairs need more than ${s.pairs * 2 + 1} tokens, vocabSize is ${v}`, 'Raise vocabSize');
    }
  }
  return o as Partial<AnyRecipe>;
}

/** The one block of a single-layer pattern ("hsm-ab", "softmax-attention(window=64)"), else undefined. */
export function singleLayer(layers: string): LayerPart | undefined {
  try {
    const parts = parseLayerParts(layers, { checkRegistry: false });
    return parts.length === 1 ? parts[0] : undefined;
  } catch {
    return undefined;
  }
}

function checkModel(c: Checker, raw: unknown, where: string): ModelDefinition {
  const o = c.object(raw, where);
  c.fields(o, MODEL_FIELDS, where);
  if (typeof o.layers !== 'string' || o.layers.trim() === '') {
    c.fail(where, 'missing "layers"', 'Give a layer pattern such as "hsm-ab*6" or "softmax-attention*6"');
  }
  if (o.ffn !== undefined && o.ffn !== 'match' && !(typeof o.ffn === 'number' && Number.isInteger(o.ffn) && o.ffn > 0)) {
    c.fail(`${where}.ffn`, `${JSON.stringify(o.ffn)} is not "match" or a positive integer`, 'Use "match" or a hidden width');
  }
  if (o.mixers !== undefined) {
    const m = c.object(o.mixers, `${where}.mixers`);
    for (const [k, v] of Object.entries(m)) c.object(v, `${where}.mixers.${k}`);
  }
  if (o.positional !== undefined && !['auto', 'learned', 'none'].includes(o.positional as string)) {
    c.fail(`${where}.positional`, `${JSON.stringify(o.positional)} is not a positional mode`, 'Use "auto", "learned" or "none"');
  }
  return o as unknown as ModelDefinition;
}

function checkBenchmark(c: Checker, raw: unknown, where: string): Benchmark {
  const o = c.object(raw, where);
  c.fields(o, BENCHMARK_FIELDS, where);
  const name = c.name(o.name, `${where}.name`);
  const at = `benchmark "${name}"`;
  if (!TASK_NAMES.includes(o.task as TaskName)) {
    c.fail(`${at}.task`, `unknown task ${JSON.stringify(o.task)}`, `Use one of ${TASK_NAMES.join(', ')}`);
  }
  const task = o.task as TaskName;
  if (o.data !== undefined && (task !== 'lm-char' || typeof o.data !== 'string')) {
    c.fail(
      `${at}.data`,
      task === 'lm-char' ? 'expected a file path' : `task ${task} takes no data file`,
      'Give a text file relative to the folder of the suite file, or leave "data" out',
    );
  }
  const models = c.object(o.models, `${at}.models`);
  if (Object.keys(models).length === 0) c.fail(`${at}.models`, 'no models', 'Name at least one model');
  const checkedModels: Record<string, ModelDefinition> = {};
  for (const [key, def] of Object.entries(models)) {
    c.name(key, `${at}.models`);
    checkedModels[key] = checkModel(c, def, `${at}.models.${key}`);
    if (task === 'scaling' && singleLayer(checkedModels[key].layers) === undefined) {
      c.fail(
        `${at}.models.${key}.layers`,
        `scaling times one mixer layer, got the pattern "${checkedModels[key].layers}"`,
        'Give a single mixer name, e.g. "hsm-ab" or "softmax-attention(window=64)"',
      );
    }
  }
  const presets = c.object(o.presets, `${at}.presets`);
  if (Object.keys(presets).length === 0) c.fail(`${at}.presets`, 'no presets', 'Give at least a "quick" preset');
  const checkedPresets: Record<string, Partial<AnyRecipe>> = {};
  for (const [key, recipe] of Object.entries(presets)) {
    c.name(key, `${at}.presets`);
    checkedPresets[key] = checkRecipe(c, task, recipe, `${at}.presets.${key}`);
    const layers = (checkedPresets[key] as { layers?: Record<string, string> }).layers ?? {};
    for (const model of Object.keys(layers)) {
      if (!checkedModels[model])
        c.fail(`${at}.presets.${key}.layers`, `no model "${model}"`, `Name models of this benchmark: ${Object.keys(checkedModels).join(', ')}`);
    }
  }
  if (o.metrics !== undefined) {
    if (!Array.isArray(o.metrics) || o.metrics.length === 0) c.fail(`${at}.metrics`, 'expected a non-empty list', 'List metric names');
    for (const m of o.metrics) {
      if (!TASK_METRICS[task].includes(m as string)) {
        c.fail(`${at}.metrics`, `unknown metric ${JSON.stringify(m)} for task ${task}`, `Metrics of ${task}: ${TASK_METRICS[task].join(', ')}`);
      }
    }
  }
  return { ...(o as unknown as Benchmark), name, task, models: checkedModels, presets: checkedPresets };
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
export function resolveRecipe(benchmark: Benchmark, preset: string): AnyRecipe {
  const recipe = benchmark.presets[preset];
  if (!recipe) {
    throw new ShiftmixError(
      `benchmark "${benchmark.name}" has no preset "${preset}"`,
      `Its presets: ${Object.keys(benchmark.presets).join(', ')}. Pick one with --preset, or leave the benchmark out with --only`,
      'E_PRESET',
    );
  }
  return { ...RECIPE_DEFAULTS[benchmark.task], ...recipe } as AnyRecipe;
}

/** Every preset any benchmark of the suite defines. */
export function suitePresets(suite: Suite): string[] {
  return [...new Set(suite.benchmarks.flatMap((b) => Object.keys(b.presets)))];
}
