import path from 'node:path';
import { isTokenizerFile, TOKENIZER_NAMES, type Corpus } from '@shiftmix/core';
import type { Io } from '../command.js';
import type { FlagSpecs } from '../flags.js';

// The flags and messages of every command that reads training data (train, tokenize):
// one --data, one --tokenizer, and progress while a large corpus is encoded.

export const DATA_FLAGS = {
  data: {
    type: 'string',
    required: true,
    placeholder: 'DATA',
    description: 'Text file, folder, quoted glob, .jsonl, or .bin token files (the last 10% is held out)',
  },
  tokenizer: {
    type: 'string',
    default: 'char',
    placeholder: `${TOKENIZER_NAMES.join('|')}|FILE`,
    description: "Characters, GPT-2's BPE, or a Hugging Face tokenizer.json (token files bring their own)",
  },
  textField: { type: 'string', default: 'text', placeholder: 'NAME', description: "The field of each JSONL line that holds a document's text" },
} as const satisfies FlagSpecs;

/** A --tokenizer value as loadCorpus takes it: a name as it is, a tokenizer.json file resolved against `cwd`. */
export function tokenizerFlag(value: string, cwd: string): string {
  return isTokenizerFile(value) ? path.resolve(cwd, value) : value;
}

/** "1,003,854 train + 111,540 val tokens of gpt2 (50,257 tokens), 3.30 bytes per token": what a run trains on. */
export function describeData(corpus: Corpus): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const files = corpus.files.length > 1 ? ` from ${count(corpus.files.length)} files` : '';
  const tokenizer = corpus.tokenizer ? corpus.tokenizer.label : `${count(corpus.vocabSize)} token ids (no tokenizer beside the files: generation needs one)`;
  const bytes = corpus.bytesPerToken === undefined ? '' : `, ${corpus.bytesPerToken.toFixed(2)} bytes per token`;
  return `${count(corpus.tokens.train)} train + ${count(corpus.tokens.val)} val tokens${files} of ${tokenizer}${bytes}`;
}

/** Token files stay open while a run reads them; closed when the command ends. */
export function closeData(corpus: Corpus | undefined): void {
  const dataset = corpus?.dataset as { close?: () => void } | undefined;
  dataset?.close?.();
}

/** Progress on stderr while a corpus of more than `from` bytes (16 MB; smaller ones take a second) is encoded. */
export function encodingProgress(io: Pick<Io, 'stderr' | 'stderrIsTTY'>, what = 'encoding', from = 16 << 20): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    if (total < from) return;
    const percent = Math.floor((100 * done) / total);
    if (percent === shown || (!io.stderrIsTTY && percent % 10 !== 0 && done < total)) return;
    shown = percent;
    const width = 30;
    const filled = Math.round((width * done) / total);
    const line = `shiftmix: ${what} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}% of ${(total / (1 << 20)).toFixed(1)} MB`;
    io.stderr(io.stderrIsTTY ? `\r${line}${done >= total ? '\n' : ''}` : `${line}\n`);
  };
}
