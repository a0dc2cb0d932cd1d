import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCorpus, type BackendName, type Corpus, type Tokenizer } from '@shiftmix/core';
import { InputError } from './errors.js';

/**
 * run.json in a train --out directory: what the checkpoints do not hold but `resume`
 * needs to go on the same way (the data file, the plugins, the backend).
 */
export interface RunInfo {
  /** The training data: the absolute path of a text file, folder, JSONL or token file, or a glob. */
  data: string;
  valFraction: number;
  /** The --tokenizer the run started with (its checkpoints hold the tokenizer itself). */
  tokenizer?: string;
  /** The JSONL field of the documents' text, when not "text". */
  textField?: string;
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
    const textField = typeof info.textField === 'string' ? { textField: info.textField } : {};
    const tokenizer = typeof info.tokenizer === 'string' ? { tokenizer: info.tokenizer } : {};
    return {
      data: info.data,
      valFraction: info.valFraction ?? 0.1,
      plugins: info.plugins,
      backend: info.backend ?? 'auto',
      ...tokenizer,
      ...textField,
      ...dataSha256,
    };
  } catch (error) {
    throw new InputError(`${file} is damaged (${(error as Error).message})`, 'Pass --data FILE to resume, or delete run.json');
  }
}

/** SHA-256 of the data's files, in order (one file: of its bytes), in hex. */
export function hashFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/**
 * The absolute form of a --plugin argument, so a run resumed from another directory
 * loads the same modules; package names stay as they are.
 */
export function absolutePlugin(specifier: string, cwd: string): string {
  const looksLikePath = specifier.startsWith('.') || path.isAbsolute(specifier) || existsSync(path.resolve(cwd, specifier));
  return looksLikePath ? path.resolve(cwd, specifier) : specifier;
}

/**
 * Reads and encodes the training data (loadCorpus: text, folder, glob, JSONL or token files).
 * `tokenizer` is a --tokenizer value, or a checkpoint's tokenizer to encode the text the
 * same way; the corpus's tokens must then all be known to it.
 */
export async function loadData(
  spec: string,
  options: { tokenizer?: string | Tokenizer; valFraction?: number; textField?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<Corpus> {
  return loadCorpus(spec, {
    tokenizer: options.tokenizer,
    valFraction: options.valFraction ?? 0.1,
    textField: options.textField,
    onProgress: options.onProgress,
  });
}

/** Fails early, naming the flags, when a split is too short for windows of `context` tokens. */
export function checkContextFits(corpus: Corpus, context: number, data: string): void {
  for (const split of ['train', 'val'] as const) {
    const size = corpus.tokens[split];
    if (context >= size) {
      throw new InputError(
        `--ctx ${context} is longer than the data: the ${split} split of ${data} has ${size} tokens and a window needs ${context + 1}`,
        `Use --ctx ${Math.max(1, size - 1)} or less, or more text`,
      );
    }
  }
}
