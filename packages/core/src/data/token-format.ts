import { ShiftmixError } from '../errors.js';

// The two layouts of pre-tokenized files, as bytes: no file system here, so the rules can be
// tested (and reused) without Node. token-file.ts reads the files.

/** Which layout a token file has; 'auto' tells them apart by llm.c's magic number. */
export type TokenFileFormat = 'nanogpt' | 'llmc' | 'auto';

/** llm.c's header: 256 little-endian int32, then header[2] uint16 tokens. */
export const LLMC_MAGIC = 20240520;
export const LLMC_VERSION = 1;
export const LLMC_HEADER_BYTES = 256 * 4;
/** llm.c's LLaMA-3 files (uint32 tokens) carry this magic instead; they are refused by name. */
const LLMC_LLAMA3_MAGIC = 20240801;

/** Where a file's tokens are: `tokens` uint16 values from byte `offset` on. */
export interface TokenFileLayout {
  format: 'nanogpt' | 'llmc';
  offset: number;
  tokens: number;
}

export function checkTokenFileFormat(format: unknown): TokenFileFormat {
  if (format === undefined) return 'auto';
  if (format === 'nanogpt' || format === 'llmc' || format === 'auto') return format;
  throw new ShiftmixError(
    `unknown token file format ${JSON.stringify(format)}`,
    'Use "nanogpt" (raw uint16), "llmc" (llm.c header) or "auto"',
    'E_DATA_FORMAT',
  );
}

/** A vocabulary that uint16 ids can index: a whole number in [1, 65536]. */
export function checkVocabSize(vocabSize: unknown, source: string): number {
  if (typeof vocabSize !== 'number' || !Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 65536) {
    throw new ShiftmixError(
      `the vocabulary size ${JSON.stringify(vocabSize)} (${source}) is not a whole number in [1, 65536]`,
      'Give the number of token ids the files were made with, e.g. 65 for Tiny Shakespeare characters or 50257 for GPT-2',
      'E_DATA_VOCAB',
    );
  }
  return vocabSize;
}

/**
 * The layout of a token file of `size` bytes whose first bytes are `head` (up to
 * LLMC_HEADER_BYTES of them), checked against the size; `label` names the file in errors.
 */
export function parseTokenFileLayout(label: string, size: number, head: Uint8Array, format: TokenFileFormat): TokenFileLayout {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const first = head.byteLength >= 4 ? view.getInt32(0, true) : undefined;
  if (format === 'auto' && first === LLMC_LLAMA3_MAGIC) {
    throw new ShiftmixError(
      `${label} is an llm.c LLaMA-3 token file (magic ${LLMC_LLAMA3_MAGIC}, uint32 tokens), which is not supported`,
      'Use GPT-2-style token files (llm.c version 1, uint16 tokens) or nanoGPT .bin files',
      'E_DATA_FORMAT',
    );
  }
  const llmc = format === 'llmc' || (format === 'auto' && first === LLMC_MAGIC && size >= LLMC_HEADER_BYTES);
  if (!llmc) {
    if (size % 2 !== 0) {
      throw new ShiftmixError(
        `${label} has ${size} bytes, not a whole number of uint16 tokens`,
        'A nanoGPT .bin file is a flat array of little-endian uint16 ids; write it again, e.g. np.array(ids, dtype=np.uint16).tofile(path)',
        'E_DATA_FORMAT',
      );
    }
    return { format: 'nanogpt', offset: 0, tokens: size / 2 };
  }
  if (size < LLMC_HEADER_BYTES) {
    throw new ShiftmixError(
      `${label} has ${size} bytes, fewer than llm.c's ${LLMC_HEADER_BYTES}-byte header`,
      'Give a file written by llm.c (write_datafile), or format "nanogpt" for a raw uint16 file',
      'E_DATA_FORMAT',
    );
  }
  if (first !== LLMC_MAGIC) {
    throw new ShiftmixError(
      `${label} does not start with llm.c's magic number ${LLMC_MAGIC} (it starts with ${first})`,
      'Give a file written by llm.c (write_datafile), or format "nanogpt" (or "auto") for a raw uint16 file',
      'E_DATA_FORMAT',
    );
  }
  const version = view.getInt32(4, true);
  if (version !== LLMC_VERSION) {
    throw new ShiftmixError(
      `${label} is llm.c token file version ${version}; this library reads version ${LLMC_VERSION} (uint16 tokens)`,
      'Write the tokens as llm.c version 1 (GPT-2-style, uint16) or as a nanoGPT .bin file',
      'E_DATA_FORMAT',
    );
  }
  const tokens = view.getInt32(8, true);
  const held = (size - LLMC_HEADER_BYTES) / 2;
  if (tokens < 0 || tokens !== held) {
    throw new ShiftmixError(
      `${label}'s llm.c header says ${tokens} tokens, but the file holds ${held} after its ${LLMC_HEADER_BYTES}-byte header (2 bytes each)`,
      'The file is truncated or damaged; write it again with llm.c (write_datafile)',
      'E_DATA_FORMAT',
    );
  }
  return { format: 'llmc', offset: LLMC_HEADER_BYTES, tokens };
}

/**
 * The validation file that pairs with a training file in nanoGPT's and llm.c's layouts:
 * `train.bin` -> `val.bin`, `NAME_train.bin` -> `NAME_val.bin`; undefined for other names.
 */
export function pairedValName(trainName: string): string | undefined {
  if (trainName === 'train.bin') return 'val.bin';
  const match = /^(.+)_train\.bin$/.exec(trainName);
  return match ? `${match[1]}_val.bin` : undefined;
}

/**
 * The bytes of a token file holding `ids`: llm.c's (its 1024-byte header, version 1, then
 * uint16 tokens) or nanoGPT's raw uint16. Ids must fit uint16 (a vocabulary of at most 65,536).
 */
export function tokenFileBytes(ids: ArrayLike<number>, format: 'llmc' | 'nanogpt' = 'llmc'): Uint8Array {
  const offset = format === 'llmc' ? LLMC_HEADER_BYTES : 0;
  const bytes = new Uint8Array(offset + 2 * ids.length);
  const view = new DataView(bytes.buffer);
  if (format === 'llmc') {
    view.setInt32(0, LLMC_MAGIC, true);
    view.setInt32(4, LLMC_VERSION, true);
    view.setInt32(8, ids.length, true);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < 65536)) {
      throw new ShiftmixError(`token id ${id} at token ${i} does not fit a uint16 token file`, 'Use a tokenizer of at most 65,536 tokens', 'E_DATA_FORMAT');
    }
    view.setUint16(offset + 2 * i, id, true);
  }
  return bytes;
}
