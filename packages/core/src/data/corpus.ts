import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { ShiftmixError } from '../errors.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { tokenizerFromJSON } from '../tokenizer/restore.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { TextDataset } from './dataset.js';
import { encodeDocuments } from './encode.js';
import { expandGlob, isGlob, jsonlFile, textFiles, type TextSource } from './sources.js';
import { resolveTokenFilePaths, TokenFileDataset } from './token-file.js';
import { pairedValName } from './token-format.js';

// One entry point from a --data argument to training data (Node): text, a folder, a glob,
// JSONL, or pre-tokenized files, with the tokenizer that goes with them. Splits:
// text corpora hold out the last valFraction of their token stream (files in sorted order,
// documents separated by the tokenizer's end-of-text token or a newline); token files as
// TokenFileDataset.open says (their own val file, else the last valFraction).

export interface CorpusOptions {
  /**
   * "char" (default for text: built from the corpus), "gpt2", a tokenizer.json path, or a
   * Tokenizer (a checkpoint's, to encode new text the same way). Token files use theirs.
   */
  tokenizer?: string | Tokenizer;
  /** Fraction of the tokens, from the end, held out for validation (default 0.1). */
  valFraction?: number;
  /** The JSONL field that holds each document's text (default "text"). */
  textField?: string;
  /** Called as text is encoded: bytes done of the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface Corpus {
  kind: TextSource['kind'] | 'tokens';
  dataset: TextDataset | TokenFileDataset;
  /** Undefined only for token files with no tokenizer beside them (a meta.json's vocab_size alone). */
  tokenizer?: Tokenizer;
  vocabSize: number;
  tokens: { train: number; val: number };
  /** UTF-8 bytes per token, also set on the dataset, when known. */
  bytesPerToken?: number;
  /** The files read, in order (hashed by the CLI to notice a changed corpus). */
  files: string[];
}

/** Token files: a .bin file, or a folder that holds train/val .bin pairs. */
function isTokenData(spec: string): boolean {
  if (extname(spec) === '.bin') return true;
  try {
    return statSync(spec).isDirectory() && readdirSync(spec).some((name) => pairedValName(name) !== undefined && name.endsWith('.bin'));
  } catch {
    return false;
  }
}

/** The tokenizer saved beside token files: NAME.tokenizer.json, tokenizer.json, or a nanoGPT-style meta.json with itos. */
async function tokenizerBeside(trainFile: string): Promise<Tokenizer | undefined> {
  const dir = dirname(trainFile);
  const stem = basename(trainFile, '.bin').replace(/_?(train|val)$/, '');
  for (const name of [`${stem}.tokenizer.json`, 'tokenizer.json']) {
    const path = join(dir, name);
    if (existsSync(path)) return loadTokenizer(path);
  }
  const meta = join(dir, 'meta.json');
  if (!existsSync(meta)) return undefined;
  let json: { itos?: unknown };
  try {
    json = JSON.parse(readFileSync(meta, 'utf8')) as { itos?: unknown };
  } catch {
    return undefined; // TokenFileDataset reports a damaged meta.json.
  }
  if (json.itos === undefined) return undefined;
  const itos = Array.isArray(json.itos)
    ? json.itos
    : Object.entries(json.itos as object)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, ch]) => ch as unknown);
  return tokenizerFromJSON({ type: 'char', version: 1, chars: itos }, JSON.stringify(meta));
}

/**
 * UTF-8 bytes per token of the validation split (its first 2^20 tokens, decoded): the
 * validation loss over them in bits per byte is then the bits of that text per byte. The
 * same for text and token files, so a token file written from a text reports the same.
 */
function sampledBytesPerToken(dataset: TokenFileDataset | TextDataset, tokenizer: Tokenizer): number | undefined {
  const ids = dataset.read('val', 0, 1 << 20);
  if (ids.length === 0) return undefined;
  return new TextEncoder().encode(tokenizer.decode(ids)).length / ids.length;
}

async function loadTokenFiles(spec: string, options: CorpusOptions): Promise<Corpus> {
  const given =
    typeof options.tokenizer === 'object'
      ? options.tokenizer
      : options.tokenizer && options.tokenizer !== 'char'
        ? await loadTokenizer(options.tokenizer)
        : undefined;
  const paths = resolveTokenFilePaths(spec);
  const tokenizer = given ?? (await tokenizerBeside('single' in paths ? paths.single : paths.train));
  // Without a tokenizer, the vocabulary size comes from a meta.json beside the files.
  const dataset = TokenFileDataset.open(spec, { valFraction: options.valFraction, vocabSize: tokenizer?.vocabSize });
  try {
    dataset.checkIds();
  } catch (error) {
    dataset.close();
    throw error;
  }
  const bytesPerToken = tokenizer ? sampledBytesPerToken(dataset, tokenizer) : undefined;
  dataset.bytesPerToken = bytesPerToken;
  const files = [...new Set([dataset.files.train, dataset.files.val])];
  return { kind: 'tokens', dataset, tokenizer, vocabSize: dataset.vocabSize, tokens: { ...dataset.tokens }, bytesPerToken, files };
}

/** The text source a --data argument names. */
export function textSource(spec: string, textField?: string): TextSource {
  if (isGlob(spec) && !existsSync(spec)) return textFiles('glob', expandGlob(spec));
  let isDirectory = false;
  try {
    isDirectory = statSync(spec).isDirectory();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ShiftmixError(`the data ${JSON.stringify(spec)} does not exist`, 'Check the path; it is relative to the current directory', 'E_DATA_MISSING');
    }
    throw new ShiftmixError(`cannot read ${JSON.stringify(spec)}: ${(error as Error).message}`, 'Check the path and its permissions', 'E_DATA_READ');
  }
  if (isDirectory) {
    const files = expandGlob(join(spec, '**', '*'));
    return textFiles('folder', files);
  }
  if (extname(spec) === '.jsonl') return jsonlFile(spec, textField);
  return textFiles('text', [spec]);
}

/**
 * Training data from a --data argument: a text file, a folder (every file under it), a
 * glob ("texts/*.txt"), a JSONL file (a "text" field per line), or token files (.bin:
 * nanoGPT's raw uint16 or llm.c's; a folder of train/val .bin pairs). Errors name the
 * file (and line) and the fix.
 */
export async function loadCorpus(spec: string, options: CorpusOptions = {}): Promise<Corpus> {
  if (typeof spec !== 'string' || spec === '') {
    throw new ShiftmixError(
      `the data ${JSON.stringify(spec)} is not a path`,
      'Give a text file, a folder, a glob, a .jsonl file or a .bin token file',
      'E_DATA',
    );
  }
  if (isTokenData(spec)) return loadTokenFiles(spec, options);
  const source = textSource(spec, options.textField);
  const documents = [...source.documents()];
  const spec_ = options.tokenizer ?? 'char';
  const tokenizer =
    typeof spec_ === 'object' ? spec_ : spec_ === 'char' ? CharTokenizer.fromText(documents.map((d) => d.text).join('\n')) : await loadTokenizer(spec_);
  const { ids, bytes } = encodeDocuments(tokenizer, documents, options.onProgress);
  if (ids.length < 2) {
    throw new ShiftmixError(`the data ${JSON.stringify(spec)} encodes to ${ids.length} token(s)`, 'Give more text', 'E_DATA_EMPTY');
  }
  const dataset = new TextDataset(ids, { valFraction: options.valFraction ?? 0.1 });
  dataset.bytesPerToken = sampledBytesPerToken(dataset, tokenizer) ?? bytes / ids.length;
  return {
    kind: source.kind,
    dataset,
    tokenizer,
    vocabSize: tokenizer.vocabSize,
    tokens: { train: dataset.train.length, val: dataset.val.length },
    bytesPerToken: dataset.bytesPerToken,
    files: source.files,
  };
}
