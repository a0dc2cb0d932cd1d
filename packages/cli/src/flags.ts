import { UsageError } from './errors.js';

/**
 * A small typed flag parser. Each command declares its flags as an object of specs
 * keyed by camelCase name; the command line spells them in kebab-case (`minLr` is
 * `--min-lr`). `parseFlags` returns values typed from the specs.
 */
interface BaseSpec {
  description: string;
  /** Shown in help after the flag: `--dim N`. */
  placeholder?: string;
}
export interface StringFlag extends BaseSpec {
  type: 'string';
  required?: boolean;
  default?: string;
}
export interface NumberFlag extends BaseSpec {
  type: 'number';
  integer?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** When true the value must be > min rather than >= min. */
  exclusiveMin?: boolean;
  required?: boolean;
  default?: number;
}
export interface BooleanFlag extends BaseSpec {
  type: 'boolean';
}
export interface ChoiceFlag<T extends string = string> extends BaseSpec {
  type: 'choice';
  choices: readonly T[];
  default?: T;
}
/** Repeatable: `--plugin a --plugin b` gives ['a', 'b']. */
export interface ListFlag extends BaseSpec {
  type: 'list';
}
export type FlagSpec = StringFlag | NumberFlag | BooleanFlag | ChoiceFlag | ListFlag;
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends BooleanFlag
  ? boolean
  : S extends ListFlag
    ? string[]
    : S extends ChoiceFlag<infer T>
      ? S extends { default: string }
        ? T
        : T | undefined
      : S extends NumberFlag
        ? S extends { default: number } | { required: true }
          ? number
          : number | undefined
        : S extends { default: string } | { required: true }
          ? string
          : string | undefined;

export type FlagValues<S extends FlagSpecs> = { [K in keyof S]: ValueOf<S[K]> };

export interface ParsedArgs<S extends FlagSpecs> {
  flags: FlagValues<S>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Edit distance, for "did you mean" suggestions. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The candidate closest to `word`, when it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(word.length / 3));
  const isPrefix = best !== undefined && word.length >= 2 && best.startsWith(word);
  return bestDistance <= tolerance || isPrefix ? best : undefined;
}

// Decimal numbers only: Number() would also read "0x10" as 16, "0b11" as 3 and " " as 0.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(flag: string, raw: string, spec: NumberFlag): number {
  const value = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  const kind = spec.integer ? 'an integer' : 'a number';
  const example = `Pass e.g. --${flag} ${spec.default ?? (spec.min ?? 0) + 1}`;
  if (!Number.isFinite(value) || (spec.integer && !Number.isInteger(value))) {
    const decimal = /^[+-]?0[xXbBoO]/.test(raw.trim()) ? ' (write it in decimal)' : '';
    throw new UsageError(`--${flag} must be ${kind}${decimal}, got "${raw}"`, example);
  }
  // Past 2^53 integers are no longer exact: 9007199254740993 would silently become ...992.
  if (spec.integer && !Number.isSafeInteger(value)) {
    throw new UsageError(`--${flag} ${raw} is past the largest exact integer (${Number.MAX_SAFE_INTEGER})`, example);
  }
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) {
    throw new UsageError(`--${flag} must be ${spec.exclusiveMin ? 'greater than' : 'at least'} ${spec.min}, got ${raw}`, `Pass a larger --${flag}`);
  }
  if (spec.max !== undefined && value > spec.max) {
    throw new UsageError(`--${flag} must be at most ${spec.max}, got ${raw}`, `Pass a smaller --${flag}`);
  }
  return value;
}

function convert(flag: string, raw: string, spec: FlagSpec): unknown {
  switch (spec.type) {
    case 'number':
      return parseNumber(flag, raw, spec);
    case 'choice':
      if (!spec.choices.includes(raw)) {
        const guess = closest(raw, spec.choices);
        throw new UsageError(
          `--${flag} must be one of ${spec.choices.join(', ')}, got "${raw}"`,
          guess ? `Did you mean --${flag} ${guess}?` : `Pass one of ${spec.choices.join(', ')}`,
        );
      }
      return raw;
    default:
      return raw;
  }
}

function parseBoolean(flag: string, raw: string): boolean {
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new UsageError(`--${flag} is a switch and takes no value, got "${raw}"`, `Write --${flag} alone, or --${flag}=false`);
}

/**
 * Parses `argv` against `specs`. Accepts `--flag value`, `--flag=value`, boolean
 * switches (`--json`, `--json=false`) and `--` to end flags. Unknown flags, missing
 * values, bad numbers and missing required flags are UsageErrors.
 */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S, command: string): ParsedArgs<S> {
  const byFlag = new Map<string, [string, FlagSpec]>();
  for (const [key, spec] of Object.entries(specs)) byFlag.set(kebab(key), [key, spec]);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) {
        throw new UsageError(`unknown flag "${arg}" for "shiftmix ${command}"`, 'Flags are spelled in full with two dashes, e.g. --help');
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const entry = byFlag.get(flag);
    if (!entry) {
      const guess = closest(flag, [...byFlag.keys()]);
      throw new UsageError(
        `unknown flag --${flag} for "shiftmix ${command}"`,
        guess ? `Did you mean --${guess}? See shiftmix ${command} --help` : `See shiftmix ${command} --help`,
      );
    }
    const [key, spec] = entry;
    if (spec.type === 'boolean') {
      values[key] = eq === -1 ? true : parseBoolean(flag, arg.slice(eq + 1));
      continue;
    }
    let raw: string;
    if (eq !== -1) {
      raw = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${flag} needs a value`, `Write --${flag} ${spec.placeholder ?? 'VALUE'}`);
      }
      raw = next;
      i++;
    }
    if (spec.type === 'list') {
      values[key] = [...((values[key] as string[] | undefined) ?? []), raw];
    } else {
      values[key] = convert(flag, raw, spec);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (values[key] !== undefined) continue;
    if (spec.type === 'boolean') values[key] = false;
    else if (spec.type === 'list') values[key] = [];
    else if (spec.default !== undefined) values[key] = spec.default;
    else if ('required' in spec && spec.required) {
      throw new UsageError(
        `"shiftmix ${command}" needs --${kebab(key)}`,
        `Write --${kebab(key)} ${spec.placeholder ?? 'VALUE'}; see shiftmix ${command} --help`,
      );
    }
  }
  return { flags: values as FlagValues<S>, positionals };
}
