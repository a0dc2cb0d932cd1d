import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ShiftmixError } from '../errors.js';
import type { TrainingData } from '../train/types.js';
import { WindowDataset, type Split } from './windows.js';
import { checkTokenFileFormat, checkVocabSize, LLMC_HEADER_BYTES, pairedValName, parseTokenFileLayout, type TokenFileFormat } from './token-format.js';

// Node only by nature: the only module of core's data that reaches the file system
// synchronously, so the trainer's synchronous sampleBatch can read windows from disk.

export interface TokenFileOptions {
  /** Token ids are below this; default: `vocab_size` of a meta.json beside the (training) file. */
  vocabSize?: number;
  /** 'auto' (default): llm.c when the file starts with its magic number, else nanoGPT's raw uint16. */
  format?: TokenFileFormat;
  /** With one file: the fraction of its tokens, from the end, held out for validation (default 0.1). */
  valFraction?: number;
}

/** Separate training and validation token files. */
export interface TokenFilePaths {
  train: string;
  val: string;
}

interface OpenFile {
  label: string;
  fd: number;
  /** Byte offset of the first token. */
  offset: number;
  format: 'nanogpt' | 'llmc';
}

/** One split: `length` tokens of `file` from token `start` on. */
interface SplitRange {
  file: OpenFile;
  start: number;
  length: number;
}

const quote = (path: string) => JSON.stringify(path);

function readError(path: string, error: unknown): ShiftmixError {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ShiftmixError(`the token file ${quote(path)} does not exist`, 'Check the path; it is relative to the current directory', 'E_DATA_MISSING');
  }
  return new ShiftmixError(`cannot read ${quote(path)}: ${(error as Error).message}`, 'Check the path and its permissions', 'E_DATA_READ');
}

/** The files a path names: a directory's or a file's train/val pair, else the one file. */
export function resolveTokenFilePaths(path: string | TokenFilePaths): TokenFilePaths | { single: string } {
  if (typeof path === 'object' && path !== null) {
    if (typeof path.train !== 'string' || typeof path.val !== 'string') {
      throw new ShiftmixError('the token files must be a path or { train, val } paths', 'Pass e.g. { train: "data/train.bin", val: "data/val.bin" }', 'E_DATA');
    }
    return path;
  }
  if (typeof path !== 'string' || path === '') {
    throw new ShiftmixError(`the token file path ${JSON.stringify(path)} is not a path`, 'Pass the path of a .bin token file or of its directory', 'E_DATA');
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw readError(path, error);
  }
  if (!isDirectory) {
    const val = pairedValName(basename(path));
    return val && existsSync(join(dirname(path), val)) ? { train: path, val: join(dirname(path), val) } : { single: path };
  }
  const names = readdirSync(path);
  const pairs = names.filter((name) => pairedValName(name) && names.includes(pairedValName(name) as string));
  if (pairs.length !== 1) {
    throw new ShiftmixError(
      `the directory ${quote(path)} holds ${pairs.length === 0 ? 'no' : pairs.length} pairs of token files (train.bin and val.bin, or NAME_train.bin and NAME_val.bin)`,
      pairs.length === 0 ? 'Give the path of a token file, or of a directory with train.bin and val.bin' : 'Give the files as { train, val }',
      'E_DATA_MISSING',
    );
  }
  return { train: join(path, pairs[0]), val: join(path, pairedValName(pairs[0]) as string) };
}

/** The vocabulary size: the option, else meta.json's vocab_size beside the training file. */
function resolveVocabSize(option: number | undefined, dir: string): number {
  const metaPath = join(dir, 'meta.json');
  let meta: number | undefined;
  if (existsSync(metaPath)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (error) {
      throw new ShiftmixError(`cannot read ${quote(metaPath)}: ${(error as Error).message}`, 'Write it as JSON, e.g. {"vocab_size": 65}', 'E_DATA_VOCAB');
    }
    meta = checkVocabSize((json as { vocab_size?: unknown } | null)?.vocab_size, `vocab_size of ${quote(metaPath)}`);
  }
  if (option !== undefined) {
    const size = checkVocabSize(option, 'the vocabSize option');
    if (meta !== undefined && meta !== size) {
      throw new ShiftmixError(
        `the vocabSize option ${size} disagrees with vocab_size ${meta} of ${quote(metaPath)}`,
        'Give the vocabulary size the files were tokenized with, or correct meta.json',
        'E_DATA_VOCAB',
      );
    }
    return size;
  }
  if (meta === undefined) {
    throw new ShiftmixError(
      `no vocabulary size for the token files in ${quote(dir)}`,
      'Pass vocabSize (e.g. 50257 for GPT-2 tokens), or write a meta.json beside them: {"vocab_size": N}',
      'E_DATA_VOCAB',
    );
  }
  return meta;
}

function openTokenFile(path: string, format: TokenFileFormat): { file: OpenFile; tokens: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) {
      throw new ShiftmixError(
        `${quote(path)} is a directory, not a token file`,
        'Give the path of a .bin file inside it, or the directory alone',
        'E_DATA_READ',
      );
    }
    const head = new Uint8Array(Math.min(stats.size, LLMC_HEADER_BYTES));
    readFully(fd, head, 0, quote(path));
    const layout = parseTokenFileLayout(quote(path), stats.size, head, format);
    if (layout.tokens === 0) {
      throw new ShiftmixError(`the token file ${quote(path)} holds no tokens`, 'Give a file with tokens, e.g. nanoGPT prepare.py output', 'E_DATA_EMPTY');
    }
    return { file: { label: quote(path), fd, offset: layout.offset, format: layout.format }, tokens: layout.tokens };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Fills `buffer` from byte `position`; a file that ends early was changed since it was opened. */
function readFully(fd: number, buffer: Uint8Array, position: number, label: string): void {
  let done = 0;
  while (done < buffer.byteLength) {
    const n = readSync(fd, buffer, done, buffer.byteLength - done, position + done);
    if (n === 0) {
      throw new ShiftmixError(
        `${label} ended at byte ${position + done}, before the tokens its size promised`,
        'Do not change a token file while training on it',
        'E_DATA_READ',
      );
    }
    done += n;
  }
}

/**
 * Pre-tokenized training data read from disk window by window: nanoGPT's raw uint16 `.bin`
 * files or llm.c's token files (a 1024-byte header, then uint16 tokens). Each sampled window
 * is one positioned read of context + 1 tokens, so memory stays bounded whatever the file
 * size. Batches are drawn like `TextDataset`'s (same starts from the same Rng), so the two
 * give the same batches for the same tokens. Node only; `close()` releases the files.
 */
export class TokenFileDataset extends WindowDataset implements TrainingData {
  readonly vocabSize: number;
  /** Tokens in each split. */
  readonly tokens: { readonly train: number; readonly val: number };
  /** The file each split reads (the same file for both when one file is split). */
  readonly files: { readonly train: string; readonly val: string };
  readonly formats: { readonly train: 'nanogpt' | 'llmc'; readonly val: 'nanogpt' | 'llmc' };
  private readonly ranges: Record<Split, SplitRange>;
  private readonly fds: number[];
  private closed = false;
  private buffer = new Uint8Array(0);

  private constructor(vocabSize: number, ranges: Record<Split, SplitRange>, files: TokenFilePaths, fds: number[]) {
    super();
    this.vocabSize = vocabSize;
    this.ranges = ranges;
    this.fds = fds;
    this.files = files;
    this.tokens = { train: ranges.train.length, val: ranges.val.length };
    this.formats = { train: ranges.train.file.format, val: ranges.val.file.format };
  }

  /**
   * Opens token files: `{ train, val }`; a directory holding `train.bin` and `val.bin` (or
   * `NAME_train.bin` and `NAME_val.bin`); a training file whose validation file lies beside it
   * under the paired name; or one file, whose last `valFraction` (0.1) of tokens is validation.
   * Checks the files' sizes and headers (not their tokens, which are checked as windows are read).
   */
  static open(path: string | TokenFilePaths, options: TokenFileOptions = {}): TokenFileDataset {
    const format = checkTokenFileFormat(options.format);
    const valFraction = options.valFraction ?? 0.1;
    if (typeof valFraction !== 'number' || !(valFraction > 0 && valFraction < 1)) {
      throw new ShiftmixError(`valFraction ${JSON.stringify(valFraction)} is outside (0, 1)`, 'Use a fraction such as 0.1', 'E_DATA');
    }
    const paths = resolveTokenFilePaths(path);
    const opened: OpenFile[] = [];
    try {
      const train = openTokenFile('single' in paths ? paths.single : paths.train, format);
      opened.push(train.file);
      const val = 'single' in paths ? undefined : openTokenFile(paths.val, format);
      if (val) opened.push(val.file);
      const files = 'single' in paths ? { train: paths.single, val: paths.single } : paths;
      const vocabSize = resolveVocabSize(options.vocabSize, dirname(files.train));
      const trainSize = val ? train.tokens : Math.floor(train.tokens * (1 - valFraction));
      const ranges = {
        train: { file: train.file, start: 0, length: trainSize },
        val: val ? { file: val.file, start: 0, length: val.tokens } : { file: train.file, start: trainSize, length: train.tokens - trainSize },
      };
      return new TokenFileDataset(
        vocabSize,
        ranges,
        files,
        opened.map((file) => file.fd),
      );
    } catch (error) {
      for (const file of opened) closeSync(file.fd);
      throw error;
    }
  }

  /**
   * Reads every token once, a million at a time, so an id past the vocabulary is an error
   * before training starts rather than at the window that happens to hold it.
   */
  checkIds(): void {
    const chunk = new Int32Array(1 << 20);
    for (const name of ['train', 'val'] as const) {
      const length = this.size(name);
      for (let start = 0; start < length; start += chunk.length) this.readWindow(name, start, chunk.subarray(0, Math.min(chunk.length, length - start)));
    }
  }

  /** Closes the files; sampling afterwards is an error. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) closeSync(fd);
  }

  /** Reads tokens [start, start + out.length) of the split into `out`, checking each id. */
  protected readWindow(name: Split, start: number, out: Int32Array): void {
    const range = this.ranges[name];
    const first = range.start + start;
    const bytes = out.length * 2;
    if (this.buffer.byteLength < bytes) this.buffer = new Uint8Array(bytes);
    const buffer = this.buffer.subarray(0, bytes);
    const position = range.file.offset + first * 2;
    readFully(range.file.fd, buffer, position, range.file.label);
    const view = new DataView(buffer.buffer, buffer.byteOffset, bytes);
    for (let i = 0; i < out.length; i++) {
      const id = view.getUint16(2 * i, true);
      if (id >= this.vocabSize) {
        throw new ShiftmixError(
          `token id ${id} at token ${first + i} (byte ${position + 2 * i}) of ${range.file.label} is not below the vocabulary size ${this.vocabSize}`,
          'Give the tokenizer (tokenizer.json beside it) or vocabSize (meta.json) the file was made with, or tokenize it again',
          'E_DATA_VOCAB',
        );
      }
      out[i] = id;
    }
  }

  protected checkOpen(): void {
    if (this.closed) {
      throw new ShiftmixError(`the token files ${quote(this.files.train)} are closed`, 'Open them again with TokenFileDataset.open', 'E_DATA');
    }
  }

  protected splitLength(name: Split): number {
    return this.ranges[name].length;
  }

  protected tooShort(name: Split, context: number, length: number): ShiftmixError {
    const single = this.files.train === this.files.val;
    return new ShiftmixError(
      `a context of ${context} tokens needs at least ${context + 1} tokens in the ${name} split of ${this.ranges[name].file.label}, which has ${length}`,
      single && name === 'val' ? 'Use a shorter context, a larger valFraction, or a separate validation file' : 'Use a shorter context or a longer token file',
      'E_DATA',
    );
  }
}
