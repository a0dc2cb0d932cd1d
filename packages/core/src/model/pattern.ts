import { ShiftmixError } from '../errors.js';
import { getMixer } from '../registry.js';

/** One block of a layer pattern: its mixer and the options given to that block alone. */
export interface LayerPart {
  name: string;
  /** Options written in the pattern, e.g. {window: 2} for "softmax-attention(window=2)". */
  options: Record<string, unknown>;
}

const PART = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\s*(?:\((.*)\))?\s*(?:\*\s*(\S*))?$/s;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const BARE_WORD = /^[A-Za-z_][\w.-]*$/;
/** The most blocks a pattern may expand to: checked before expanding, so "hsm-ab*1e9" answers at once. */
export const MAX_BLOCKS = 1024;
const SYNTAX = 'Write parts as NAME, NAME*COUNT or NAME(KEY=VALUE, ...)*COUNT, e.g. "softmax-attention(window=2),softmax-attention*3"';
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function patternError(problem: string, fix = SYNTAX): ShiftmixError {
  return new ShiftmixError(problem, fix, 'E_PATTERN');
}

/**
 * Splits `text` at the commas outside brackets and double-quoted strings, so option lists
 * and list values keep their own commas. Unbalanced brackets and quotes are errors.
 */
function splitTopLevel(text: string, where: string): string[] {
  const parts: string[] = [];
  const open: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw patternError(`${where} has a string that is never closed`, 'Close it with a double quote');
      i = j;
    } else if (OPENERS[ch]) {
      open.push(OPENERS[ch]);
    } else if (ch === ')' || ch === ']' || ch === '}') {
      if (open.pop() !== ch) throw patternError(`${where} has a "${ch}" that closes nothing`, 'Balance the brackets');
    } else if (ch === ',' && open.length === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (open.length > 0) throw patternError(`${where} has a bracket that is never closed (missing "${open[open.length - 1]}")`, 'Balance the brackets');
  parts.push(text.slice(start));
  return parts;
}

/** Whether every number in a parsed JSON value is finite: JSON.parse reads 1e400 as Infinity. */
export function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(allFinite);
  return true;
}

/** A value: a JSON literal (number, "string", true, false, null, list, object) or a bare word read as a string. */
function parseValue(raw: string, key: string, part: string): unknown {
  const text = raw.trim();
  if (NUMBER.test(text) || ['true', 'false', 'null'].includes(text) || /^["[{]/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw patternError(
        `the value of ${key} in "${part}" is not valid JSON: ${text}`,
        'Write numbers as 2 or 0.5, strings as words or in double quotes, lists as [1, 2]',
      );
    }
    if (!allFinite(value)) throw patternError(`the value of ${key} in "${part}" holds ${text}, a number past the range of a double`, `Write a smaller ${key}`);
    return value;
  }
  if (BARE_WORD.test(text)) return text;
  throw patternError(
    `the value of ${key} in "${part}" is ${text === '' ? 'empty' : `"${text}", which is not a number, true, false, null, a word or a quoted string`}`,
    `Write e.g. ${key}=2, ${key}=true or ${key}="some text"`,
  );
}

function parseOptions(inner: string, part: string): Record<string, unknown> {
  // A Map, so a key such as __proto__ stays a plain entry.
  const options = new Map<string, unknown>();
  if (inner.trim() === '') return {};
  for (const item of splitTopLevel(inner, `the options of "${part}"`)) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (eq < 0 || !KEY.test(key)) {
      throw patternError(
        `"${item.trim()}" in "${part}" is not an option of the form KEY=VALUE`,
        'Write options as KEY=VALUE separated by commas, e.g. "softmax-attention(window=2, rope=true)"',
      );
    }
    if (options.has(key)) throw patternError(`option ${key} is given twice in "${part}"`, 'Give each option once');
    options.set(key, parseValue(item.slice(eq + 1), key, part));
  }
  return Object.fromEntries(options);
}

/**
 * Expands a layer pattern into one part per block: "a(window=2),b*2" -> a {window: 2},
 * b {}, b {}. Each part is NAME, optionally followed by options in parentheses and a
 * repeat count (NAME(KEY=VALUE, ...)*COUNT); the options apply to those blocks alone.
 * With `checkRegistry` (the default) every name must be a registered mixer.
 */
export function parseLayerParts(pattern: string, options: { checkRegistry?: boolean } = {}): LayerPart[] {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw patternError('the layer pattern is empty', 'Give mixers separated by commas, e.g. "hsm-ab*4,softmax-attention,hsm-ab"');
  }
  const parts: LayerPart[] = [];
  splitTopLevel(pattern, `the layer pattern "${pattern}"`).forEach((raw, index) => {
    const part = raw.trim();
    if (part === '') {
      throw patternError(
        `part ${index + 1} of the layer pattern "${pattern}" is empty`,
        'Remove the extra comma; parts look like "hsm-ab", "hsm-ab*4" or "softmax-attention(window=64)"',
      );
    }
    const match = PART.exec(part);
    if (!match) throw patternError(`"${part}" in the layer pattern is not a mixer name with optional options and count`);
    const [, name, inner, countText] = match;
    const count = countText === undefined ? 1 : Number(countText);
    if (countText !== undefined && countText.includes('(')) {
      throw patternError(`"${part}" gives options after the count`, `Put the options first: NAME(KEY=VALUE)*COUNT, e.g. "${name}(window=2)*2"`);
    }
    if (countText !== undefined && (!/^\d+$/.test(countText) || count < 1))
      throw patternError(`the count "${countText}" in "${part}" is not a whole number >= 1`, `Repeat a mixer with NAME*COUNT, e.g. "${name}*4"`);
    if (parts.length + count > MAX_BLOCKS) {
      throw patternError(
        `the layer pattern "${pattern}" has more than ${MAX_BLOCKS} blocks`,
        `Use at most ${MAX_BLOCKS} blocks; deeper stacks are out of this library's range`,
      );
    }
    const partOptions = inner === undefined ? {} : parseOptions(inner, part);
    if (options.checkRegistry !== false) getMixer(name);
    for (let i = 0; i < count; i++) parts.push({ name, options: { ...partOptions } });
  });
  return parts;
}

/**
 * Expands a layer pattern into one mixer name per block: "a*2,b" -> ["a", "a", "b"].
 * Options in parentheses are checked for syntax and left out; see parseLayerParts.
 */
export function parseLayerPattern(pattern: string, options: { checkRegistry?: boolean } = {}): string[] {
  return parseLayerParts(pattern, options).map((part) => part.name);
}
