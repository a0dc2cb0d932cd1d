import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CharTokenizer, loadTextFile, TextDataset, type BackendName } from '@shiftmix/core';
import { InputError } from './errors.js';

/**
 * run.json in a train --out directory: what the checkpoints do not hold but `resume`
 * needs to go on the same way (the data file, the plugins, the backend).
 */
export interface RunInfo {
  /** Absolute path of the training text. */
  data: string;
  valFraction: number;
  /** Absolute paths or package names of the --plugin modules. */
  plugins: string[];
  backend: BackendName;
  /** SHA-256 of the training text, so a resume on another text is told its losses no longer compare. */
  dataSha256?: string;
}

export const RUN_INFO_FILE = 'run.json';

export function writeRunInfo(outDir: string, info: RunInfo): void {
  writeFileSync(path.join(outDir, RUN_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readRunInfo(outDir: string): RunInfo | undefined {
  const file = path.join(outDir, RUN_INFO_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunInfo>;
    if (typeof info.data !== 'string' || !Array.isArray(info.plugins)) throw new Error('missing fields');
    const dataSha256 = typeof info.dataSha256 === 'string' ? { dataSha256: info.dataSha256 } : {};
    return { data: info.data, valFraction: info.valFraction ?? 0.1, plugins: info.plugins, backend: info.backend ?? 'auto', ...dataSha256 };
  } catch (error) {
    throw new InputError(`${file} is damaged (${(error as Error).message})`, 'Pass --data FILE to resume, or delete run.json');
  }
}

/** SHA-256 of a file's bytes, in hex. */
export function hashFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The absolute form of a --plugin argument, so a run resumed from another directory
 * loads the same modules; package names stay as they are.
 */
export function absolutePlugin(specifier: string, cwd: string): string {
  const looksLikePath = specifier.startsWith('.') || path.isAbsolute(specifier) || existsSync(path.resolve(cwd, specifier));
  return looksLikePath ? path.resolve(cwd, specifier) : specifier;
}

export interface LoadedText {
  tokenizer: CharTokenizer;
  dataset: TextDataset;
  tokens: number;
}

/**
 * Reads and encodes a text file. Without a tokenizer one is built from the text;
 * otherwise the given one (a checkpoint's) must know every character.
 */
export async function loadText(file: string, options: { tokenizer?: CharTokenizer; valFraction?: number } = {}): Promise<LoadedText> {
  const text = await loadTextFile(file);
  const tokenizer = options.tokenizer ?? CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  return { tokenizer, dataset: new TextDataset(ids, { valFraction: options.valFraction ?? 0.1 }), tokens: ids.length };
}

/** Fails early, naming the flags, when a split is too short for windows of `context` tokens. */
export function checkContextFits(loaded: LoadedText, context: number, file: string): void {
  for (const split of ['train', 'val'] as const) {
    const size = loaded.dataset[split].length;
    if (context >= size) {
      throw new InputError(
        `--ctx ${context} is longer than the data: the ${split} split of ${file} has ${size} tokens and a window needs ${context + 1}`,
        `Use --ctx ${Math.max(1, size - 1)} or less, or more text`,
      );
    }
  }
}
