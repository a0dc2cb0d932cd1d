import { ShiftmixError } from '../errors.js';
import type { ShiftSchedule } from '../schedule.js';
import { parseLayerPattern } from './pattern.js';

export { allFinite, parseLayerParts, parseLayerPattern, MAX_BLOCKS, type LayerPart } from './pattern.js';

export type PositionalKind = 'auto' | 'learned' | 'none';

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
  if (c.ffn !== 'match') checkInteger('ffn', c.ffn, 1, 'Set ffn to "match" or to a hidden width such as 1536');
  if (!['auto', 'learned', 'none'].includes(c.positional)) {
    throw new ShiftmixError(`model option positional is ${JSON.stringify(c.positional)}`, 'Use "auto", "learned" or "none"', 'E_CONFIG');
  }
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) {
    throw new ShiftmixError(`dropout ${JSON.stringify(c.dropout)} is outside [0, 1)`, 'Use a rate such as 0.1, or 0 to turn dropout off', 'E_CONFIG');
  }
  if (!(c.schedule === 'radix' || c.schedule === 'doubling' || Array.isArray(c.schedule))) {
    throw new ShiftmixError(`unknown shift schedule ${JSON.stringify(c.schedule)}`, 'Use "radix", "doubling" or an array of shift lists', 'E_CONFIG');
  }
  const names = parseLayerPattern(c.layers, { checkRegistry: false });
  if (!isPlainObject(c.mixers)) {
    throw new ShiftmixError('model option mixers is not an object', 'Give options per mixer name, e.g. {"softmax-attention": {"window": 64}}', 'E_CONFIG');
  }
  for (const [name, options] of Object.entries(c.mixers)) {
    if (!names.includes(name)) {
      throw new ShiftmixError(
        `options are given for mixer "${name}", but the layer pattern "${c.layers}" has no such layer`,
        `Check the spelling; the pattern uses ${[...new Set(names)].join(', ')}`,
        'E_CONFIG',
      );
    }
    if (!isPlainObject(options)) {
      throw new ShiftmixError(`the options for mixer "${name}" are not an object`, 'Give them as an object, e.g. {"window": 64}', 'E_CONFIG');
    }
  }
  const schedule = Array.isArray(c.schedule) ? c.schedule.map((list) => (Array.isArray(list) ? [...list] : list)) : c.schedule;
  const mixers = Object.fromEntries(Object.entries(c.mixers).map(([k, v]) => [k, { ...v }]));
  return { ...c, schedule, mixers };
}
