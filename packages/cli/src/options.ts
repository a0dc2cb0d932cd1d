import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { getMixer, isShiftmixError, type ShiftSchedule, type StackOptions } from '@shiftmix/core';
import { allFinite, parseStackOption } from '@shiftmix/core/tooling';
import { InputError, UsageError } from './errors.js';

/**
 * A stack option given as a flag, read by core (the one place its forms are defined); what
 * core refuses is a usage error here, with the flag's own fix.
 */
function stackFlag<K extends 'ffn' | 'schedule'>(key: K, raw: string, fix: string): StackOptions[K] {
  try {
    return parseStackOption(key, raw, `--${key}`);
  } catch (error) {
    if (isShiftmixError(error)) throw new UsageError(error.problem, fix);
    throw error;
  }
}

/** `--ffn match` or a positive integer width. */
export function parseFfn(raw: string): 'match' | number {
  return stackFlag('ffn', raw, 'Pass --ffn match, or e.g. --ffn 512');
}

/** The model options that train's and profile's flags share (--ctx is contextLength). */
export function modelShapeOf(flags: { layers: string; dim: number; heads: number; ctx: number; ffn: string; dropout: number }) {
  return { layers: flags.layers, dim: flags.dim, heads: flags.heads, contextLength: flags.ctx, ffn: parseFfn(flags.ffn), dropout: flags.dropout };
}

/** `--schedule radix|doubling`, or explicit shift lists as JSON: `[[1,2],[3,6]]`. */
export function parseSchedule(raw: string): ShiftSchedule {
  return stackFlag('schedule', raw, 'Pass --schedule radix, --schedule doubling, or e.g. --schedule "[[1,2],[3,6]]" (one list per shift-based layer)');
}

function parseOptionValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Collects `--mixer-option name.key=value` into `{ name: { key: value } }`. Values are
 * read as JSON when they parse (numbers, booleans, lists), else kept as strings.
 */
export function parseMixerOptions(entries: readonly string[]): Record<string, Record<string, unknown>> {
  const options: Record<string, Record<string, unknown>> = {};
  for (const entry of entries) {
    const match = /^([a-z][a-z0-9-]*)\.([A-Za-z_][\w.]*)=(.*)$/s.exec(entry);
    if (!match) {
      throw new UsageError(`--mixer-option "${entry}" is not of the form name.key=value`, 'Write e.g. --mixer-option softmax-attention.window=64');
    }
    const [, mixer, key, raw] = match;
    getMixer(mixer);
    const value = parseOptionValue(raw);
    if (!allFinite(value)) throw new UsageError(`--mixer-option ${mixer}.${key} holds ${raw}, a number past the range of a double`, `Write a smaller ${key}`);
    options[mixer] = { ...options[mixer], [key]: value };
  }
  return options;
}

/** The --data the user named: a file (not empty) or folder that exists, or a glob; its absolute form. */
export function requireData(spec: string, cwd: string, flag: string): string {
  const resolved = path.resolve(cwd, spec);
  // A glob is expanded when the data is read, and an empty match is an error there.
  if (/[*?[]/.test(spec) && !existsSync(resolved)) return resolved;
  if (!existsSync(resolved)) {
    throw new InputError(`${flag} ${spec}: no such file or folder`, `Check the path (relative paths start at ${cwd})`);
  }
  const stat = statSync(resolved);
  if (stat.isFile() && stat.size === 0) throw new InputError(`${flag} ${spec} is empty`, 'Pass a file with some text (or tokens) in it');
  if (!stat.isFile() && !stat.isDirectory())
    throw new InputError(`${flag} ${spec} is not a file or folder`, 'Pass a text, JSONL or .bin file, a folder, or a glob');
  return resolved;
}

/** A checkpoint or run directory the user named: it must exist and be a directory. */
export function requireDirectory(dir: string, cwd: string, flag: string): string {
  const resolved = path.resolve(cwd, dir);
  if (!existsSync(resolved)) {
    throw new InputError(`${flag} ${dir}: no such directory`, `Pass the --out directory of a shiftmix train run`);
  }
  if (!statSync(resolved).isDirectory()) {
    throw new InputError(`${flag} ${dir} is not a directory`, 'Pass the --out directory of a shiftmix train run');
  }
  return resolved;
}
