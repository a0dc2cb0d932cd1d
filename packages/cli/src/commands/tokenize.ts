import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tokenFileBytes } from '@shiftmix/core';
import { COMMON_FLAGS, defineCommand } from '../command.js';
import { InputError } from '../errors.js';
import { requireData } from '../options.js';
import { loadData } from '../run-info.js';
import { closeData, DATA_FLAGS, describeData, encodingProgress, tokenizerFlag } from './data.js';

/** NAME.tokenizer.json beside NAME.bin: where train finds the tokenizer of a token file. */
export function tokenizerFileFor(bin: string): string {
  return path.join(path.dirname(bin), `${path.basename(bin, '.bin')}.tokenizer.json`);
}

/** Writes through a temporary name, so an interrupted run leaves no half-written file under the real one. */
async function writeWhole(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

export const tokenizeCommand = defineCommand({
  name: 'tokenize',
  summary: 'Write a token file from text with a chosen tokenizer',
  usage: 'tokenize --data DATA --out FILE.bin [--tokenizer gpt2|char|FILE] [flags]',
  details: [
    "Encodes DATA (a text file, folder, quoted glob or JSONL) into one token file in llm.c's format",
    "(a 1024-byte header, then uint16 ids) or nanoGPT's raw uint16, and saves the tokenizer beside it",
    'as NAME.tokenizer.json, where train, eval and resume find it. Training on the file splits it',
    'as training on the text does (the last 10% of tokens is validation), with the same batches.',
  ].join('\n'),
  flags: {
    ...DATA_FLAGS,
    tokenizer: { ...DATA_FLAGS.tokenizer, default: 'gpt2' },
    out: { type: 'string', required: true, placeholder: 'FILE.bin', description: 'The token file to write (its name ends in .bin)' },
    format: { type: 'choice', choices: ['llmc', 'nanogpt'], default: 'llmc', description: "llm.c's header and uint16 ids, or nanoGPT's raw uint16" },
    overwrite: { type: 'boolean', description: 'Replace --out (and its tokenizer file) when they exist' },
    json: { type: 'boolean', description: 'Print one JSON object: the files, tokens, vocabSize and bytesPerToken' },
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix tokenize --data input.txt --out data/shakespeare.bin',
    'shiftmix tokenize --data "books/**/*.txt" --tokenizer my/tokenizer.json --out data/books.bin',
    'shiftmix tokenize --data docs.jsonl --text-field body --out data/docs.bin --format nanogpt',
  ],
  async run(flags, { io }) {
    const out = path.resolve(io.cwd, flags.out);
    if (!out.endsWith('.bin'))
      throw new InputError(`--out ${flags.out} does not end in .bin`, `Name the token file e.g. ${path.basename(out)}.bin, so train reads it as tokens`);
    const tokenizerFile = tokenizerFileFor(out);
    for (const file of [out, tokenizerFile]) {
      if (existsSync(file) && !flags.overwrite)
        throw new InputError(`${path.relative(io.cwd, file)} already exists`, 'Pick another --out, or pass --overwrite to replace it');
    }
    const data = requireData(flags.data, io.cwd, '--data');
    const corpus = await loadData(data, {
      tokenizer: tokenizerFlag(flags.tokenizer, io.cwd),
      textField: flags.textField,
      onProgress: encodingProgress(io, 'tokenizing', 0),
    });
    try {
      if (corpus.kind === 'tokens') throw new InputError(`--data ${flags.data} is token files already`, 'Give text: a text file, folder, glob or JSONL');
      const tokenizer = corpus.tokenizer!;
      if (tokenizer.vocabSize > 65536) {
        throw new InputError(
          `${tokenizer.label} has more than 65,536 tokens, which uint16 token files cannot hold`,
          'Use a tokenizer of at most 65,536 tokens, e.g. gpt2',
        );
      }
      const dataset = corpus.dataset as { train: Int32Array; val: Int32Array };
      const ids = new Int32Array(dataset.train.length + dataset.val.length);
      ids.set(dataset.train);
      ids.set(dataset.val, dataset.train.length);
      await mkdir(path.dirname(out), { recursive: true });
      await writeWhole(out, tokenFileBytes(ids, flags.format));
      await writeWhole(tokenizerFile, `${JSON.stringify(tokenizer.toJSON())}\n`);
      const files = { tokens: path.relative(io.cwd, out), tokenizer: path.relative(io.cwd, tokenizerFile) };
      if (flags.json) {
        io.stdout(
          `${JSON.stringify({ files, tokens: ids.length, vocabSize: tokenizer.vocabSize, bytesPerToken: corpus.bytesPerToken, format: flags.format })}\n`,
        );
      } else {
        io.stdout(`wrote ${files.tokens} (${ids.length.toLocaleString('en-US')} tokens, ${flags.format}) and ${files.tokenizer}: ${describeData(corpus)}\n`);
      }
    } finally {
      closeData(corpus);
    }
  },
});
