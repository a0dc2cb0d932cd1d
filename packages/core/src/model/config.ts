import { ShiftmixError } from '../errors.js';
import type { ShiftSchedule } from '../schedule.js';
import { parseLayerPattern } from './pattern.js';

export { allFinite, parseLayerParts, parseLayerPattern, MAX_BLOCKS, type LayerPart } from './pattern.js';

export type PositionalKind = 'auto' | 'learned' | 'none';
export const POSITIONAL_KINDS: readonly PositionalKind[] = ['auto', 'learned', 'none'];

/** Everything that defines a model's architecture; stored with checkpoints. */
export interface ModelConfig {
  vocabSize: number;
  /** Model width D. */
  dim: number;
  /** Attention heads, for the mixers that have heads (they check that dim divides by it); others ignore it. */
  heads: number;
  /** T_max: the training context; learned positions and attention caches stop there. */
  contextLength: number;
  /**
   * Mixer per block, e.g. "hsm-ab*4,softmax-attention,hsm-ab". Options in parentheses
   * apply to that part's blocks alone: "softmax-attention(window=2),softmax-attention".
   */
  layers: string;
  /** Options per mixer name, e.g. {"softmax-attention": {window: 64}}; a part's own options override them. */
  mixers: Record<string, Record<string, unknown>>;
  /** FFN hidden width: "match" gives each block the parameters of an attention block with h = 4D. */
  ffn: 'match' | number;
  /** "auto": learned when any layer is not shift-based, none otherwise (shifts carry position). */
  positional: PositionalKind;
  schedule: ShiftSchedule;
  dropout: number;
  /** Seeds the weights and the dropout masks. */
  seed: number;
}

export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'vocabSize'> = {
  dim: 384,
  heads: 6,
  contextLength: 256,
  layers: 'hsm-ab*6',
  mixers: {},
  ffn: 'match',
  positional: 'auto',
  schedule: 'radix',
  dropout: 0,
  seed: 1337,
};

const CONFIG_KEYS = ['vocabSize', ...Object.keys(DEFAULT_MODEL_CONFIG)];

/**
 * The options that choose a model's stack rather than its size: the layer pattern, options
 * per mixer, the FFN, positions and shifts. Suites name models by these and the command
 * line sets them by flags; `checkStackOptions` checks them as `resolveModelConfig` does.
 */
export type StackOptions = Pick<ModelConfig, 'layers' | 'ffn' | 'mixers' | 'positional' | 'schedule'>;
export const STACK_OPTIONS: readonly (keyof StackOptions)[] = ['layers', 'ffn', 'mixers', 'positional', 'schedule'];

/** Number of parameters of Linear(D, h) + Linear(h, D), with biases. */
export function ffnParamCount(dim: number, hidden: number): number {
  return 2 * dim * hidden + hidden + dim;
}

/** Mixer + FFN parameters of the GPT block that `ffn: "match"` aims at: attention (4D^2 + 4D) and h = 4D. */
export function attentionBlockParamCount(dim: number): number {
  return 4 * dim * dim + 4 * dim + ffnParamCount(dim, 4 * dim);
}

/**
 * The FFN width that makes mixer + FFN parameters equal an attention block with h = 4D,
 * rounded to a multiple of 64 (at least 64). Solves 2Dh + h + D = 12D^2 + 9D - mixerParams,
 * so a mixer with 2D parameters (hsm-ab) gets exactly 6D before rounding.
 */
export function matchedFfnWidth(dim: number, mixerParams: number): number {
  const budget = attentionBlockParamCount(dim) - mixerParams - dim;
  const exact = budget / (2 * dim + 1);
  return Math.max(64, Math.round(exact / 64) * 64);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkInteger(name: string, value: unknown, min: number, fix: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ShiftmixError(`model option ${name} is ${JSON.stringify(value)}, it must be a whole number >= ${min}`, fix, 'E_CONFIG');
  }
  return value;
}

/** Whether `value` has the form of a shift schedule: a name, or one non-empty list of whole numbers per layer. */
function isScheduleForm(value: unknown): value is ShiftSchedule {
  if (value === 'radix' || value === 'doubling') return true;
  return Array.isArray(value) && value.every((list) => Array.isArray(list) && list.length > 0 && list.every((s) => Number.isInteger(s) && s >= 0));
}

/**
 * Checks the stack options that are given (undefined ones take the defaults): the layer
 * pattern's syntax (its names are resolved when the model is created), the FFN, positions,
 * the schedule's form (its shifts are checked against the stack by computeShiftSchedule),
 * and options only for mixers the pattern uses. `name` says what errors call an option.
 */
export function checkStackOptions(options: Partial<StackOptions>, name = (key: keyof StackOptions) => `model option ${key}`): void {
  const { layers, ffn, mixers, positional, schedule } = options;
  if (ffn !== undefined && ffn !== 'match' && !(typeof ffn === 'number' && Number.isInteger(ffn) && ffn >= 1)) {
    throw new ShiftmixError(
      `${name('ffn')} is ${JSON.stringify(ffn)}, it must be "match" or a whole number >= 1`,
      'Set ffn to "match" or to a hidden width such as 1536',
      'E_CONFIG',
    );
  }
  if (positional !== undefined && !POSITIONAL_KINDS.includes(positional)) {
    throw new ShiftmixError(`${name('positional')} is ${JSON.stringify(positional)}`, 'Use "auto", "learned" or "none"', 'E_CONFIG');
  }
  if (schedule !== undefined && !isScheduleForm(schedule)) {
    throw new ShiftmixError(
      `${name('schedule')} is ${JSON.stringify(schedule)}, not a shift schedule`,
      'Use "radix", "doubling" or one list of whole-number shifts per shift-based layer, e.g. [[1, 2], [3, 6]]',
      'E_CONFIG',
    );
  }
  const names = layers === undefined ? [] : parseLayerPattern(layers, { checkRegistry: false });
  if (mixers === undefined) return;
  if (!isPlainObject(mixers)) {
    throw new ShiftmixError(`${name('mixers')} is not an object`, 'Give options per mixer name, e.g. {"softmax-attention": {"window": 64}}', 'E_CONFIG');
  }
  for (const [mixer, given] of Object.entries(mixers)) {
    if (layers !== undefined && !names.includes(mixer)) {
      throw new ShiftmixError(
        `options are given for mixer "${mixer}", but the layer pattern "${layers}" has no such layer`,
        `Check the spelling; the pattern uses ${[...new Set(names)].join(', ')}`,
        'E_CONFIG',
      );
    }
    if (!isPlainObject(given)) {
      throw new ShiftmixError(`the options for mixer "${mixer}" are not an object`, 'Give them as an object, e.g. {"window": 64}', 'E_CONFIG');
    }
  }
}

/**
 * A stack option written as text, as on a command line: ffn is "match" or a width, schedule
 * "radix", "doubling" or shift lists as JSON ("[[1,2],[3,6]]"). `name` is what errors call
 * it (e.g. "--ffn"); the value is checked as checkStackOptions checks it.
 */
export function parseStackOption<K extends 'ffn' | 'schedule'>(key: K, text: string, name: string = key): StackOptions[K] {
  if (key === 'ffn') {
    if (text === 'match') return 'match' as StackOptions[K];
    const width = Number(text);
    if (/^\d+$/.test(text.trim()) && Number.isInteger(width) && width >= 1) return width as StackOptions[K];
    throw new ShiftmixError(`${name} must be "match" or a positive integer width, got "${text}"`, 'Give "match" or a hidden width such as 512', 'E_CONFIG');
  }
  let value: unknown = text;
  if (text.trim().startsWith('[')) {
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  if (isScheduleForm(value)) return value as StackOptions[K];
  throw new ShiftmixError(
    `${name} must be radix, doubling or a JSON list of shift lists, got "${text}"`,
    'Give radix, doubling, or one list of shifts per shift-based layer, e.g. [[1,2],[3,6]]',
    'E_CONFIG',
  );
}

/**
 * Fills in defaults and checks a model config. The layer pattern is checked for syntax
 * here; its names are resolved through the registry when the model is created.
 */
export function resolveModelConfig(input: Partial<ModelConfig> & { vocabSize: number }): ModelConfig {
  if (!isPlainObject(input)) {
    throw new ShiftmixError('the model config is not an object', 'Pass an object such as { vocabSize: 65, layers: "hsm-ab*6" }', 'E_CONFIG');
  }
  for (const key of Object.keys(input)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw new ShiftmixError(`unknown model option "${key}"`, `Model options are: ${CONFIG_KEYS.join(', ')}`, 'E_CONFIG');
    }
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const c = { ...DEFAULT_MODEL_CONFIG, ...defined } as ModelConfig;
  checkInteger('vocabSize', c.vocabSize, 2, 'The vocabulary needs at least 2 tokens; build it from your text with CharTokenizer.fromText');
  checkInteger('dim', c.dim, 1, 'Set dim to the model width, e.g. 384');
  checkInteger('heads', c.heads, 1, 'Set heads to the number of attention heads, e.g. 6');
  checkInteger('contextLength', c.contextLength, 1, 'Set contextLength to the training context, e.g. 256');
  checkInteger('seed', c.seed, 0, 'Use a whole number seed such as 1337');
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) {
    throw new ShiftmixError(`dropout ${JSON.stringify(c.dropout)} is outside [0, 1)`, 'Use a rate such as 0.1, or 0 to turn dropout off', 'E_CONFIG');
  }
  checkStackOptions(c);
  const schedule = Array.isArray(c.schedule) ? c.schedule.map((list) => [...list]) : c.schedule;
  const mixers = Object.fromEntries(Object.entries(c.mixers).map(([k, v]) => [k, { ...v }]));
  return { ...c, schedule, mixers };
}
