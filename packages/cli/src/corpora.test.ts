import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Gpt2Tokenizer, tokenFileBytes } from '@shiftmix/core';
import { byteLevelBpeJson } from '@shiftmix/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir, TINY_TRAIN_FLAGS, type RunResult } from './test-helpers.js';

// Subword tokenizers and corpora end to end: tokenize, train, resume, generate, eval and
// export with GPT-2's BPE, a user's tokenizer.json, token files, folders, globs and JSONL.

const shakespeare = readFileSync(new URL('../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8');
const TEXT = shakespeare.slice(0, 12000);

function lastJson(result: RunResult): Record<string, number | string | null> {
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, number | string | null>;
}

// wasm: the cpu backend takes seconds a step at GPT-2's vocabulary (its matmuls are plain JS).
const FLAGS = [...TINY_TRAIN_FLAGS.slice(0, TINY_TRAIN_FLAGS.indexOf('--backend')), '--backend', 'wasm'];
const train = (cwd: string, args: string[]) => runCli(['train', '--layers', 'hsm-ab*2', '--steps', '6', '--json', ...args, ...FLAGS], cwd);
let gpt2Tokens = 0;
// Bits per byte use the validation split's bytes per token: its text's UTF-8 bytes over its tokens.
let valBytesPerToken = 0;
beforeAll(async () => {
  const gpt2 = await Gpt2Tokenizer.load();
  const ids = gpt2.encode(TEXT);
  gpt2Tokens = ids.length;
  const trainSize = Math.floor(ids.length * 0.9);
  valBytesPerToken = Buffer.byteLength(gpt2.decode(ids.subarray(trainSize))) / (ids.length - trainSize);
});

describe('GPT-2 BPE from text and from a token file', () => {
  let cwd: string;
  let fromText: Record<string, number | string | null>;

  beforeAll(async () => {
    cwd = tempDir({ 'input.txt': TEXT });
    fromText = lastJson(await train(cwd, ['--data', 'input.txt', '--tokenizer', 'gpt2', '--out', 'text-run']));
  }, 120_000);

  it("trains on subwords and reports bits per byte from the text's bytes per token", () => {
    const tokens = readFileSync(path.join(cwd, 'text-run', 'last', 'tokenizer.json'), 'utf8');
    expect(JSON.parse(tokens)).toMatchObject({ type: 'gpt2', version: 1, encoding: 'gpt2' });
    const bytesPerToken = valBytesPerToken;
    expect(Number(fromText.bestValBpb)).toBeCloseTo(Number(fromText.bestValLoss) / Math.LN2 / bytesPerToken, 9);
    const metrics = readFileSync(path.join(cwd, 'text-run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const evaluated = metrics.filter((m) => m.valLoss !== null);
    expect(evaluated.length).toBeGreaterThan(0);
    for (const m of evaluated) expect(m.valBpb).toBeCloseTo((m.valLoss as number) / Math.LN2 / bytesPerToken, 9);
  });

  it('tokenize writes a token file and its tokenizer; training on it is the same run as on the text', async () => {
    const written = lastJson(await runCli(['tokenize', '--data', 'input.txt', '--out', 'shakes.bin', '--json'], cwd));
    expect(written).toMatchObject({ vocabSize: 50257, format: 'llmc' });
    expect(written.tokens).toBe(gpt2Tokens);
    expect(Number(written.bytesPerToken)).toBeCloseTo(valBytesPerToken, 9);
    const fromTokens = lastJson(await train(cwd, ['--data', 'shakes.bin', '--out', 'token-run']));
    expect(fromTokens.bestValLoss).toBe(fromText.bestValLoss);
    expect(fromTokens.trainLoss).toBe(fromText.trainLoss);
    expect(fromTokens.bestValBpb).toBe(fromText.bestValBpb);
  }, 120_000);

  it('generates, evaluates in bits per byte, exports the tokenizer by name, and resumes with it', async () => {
    const generated = await runCli(['generate', '--checkpoint', 'token-run', '--prompt', 'ROMEO:', '--tokens', '8', '--seed', '1'], cwd);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout.startsWith('ROMEO:')).toBe(true);
    const evaluated = lastJson(await runCli(['eval', '--checkpoint', 'text-run', '--data', 'input.txt', '--json'], cwd));
    expect(Number(evaluated.bitsPerByte)).toBeCloseTo(Number(evaluated.loss) / Math.LN2 / (Buffer.byteLength(TEXT) / gpt2Tokens), 9);
    const exported = await runCli(['export', '--checkpoint', 'text-run', '--out', 'exported'], cwd);
    expect(exported.code, exported.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(cwd, 'exported', 'model.json'), 'utf8')) as { tokenizer: unknown; vocabSize: number };
    expect(manifest).toMatchObject({ vocabSize: 50257, tokenizer: { type: 'gpt2', encoding: 'gpt2' } });
    const resumed = lastJson(await runCli(['resume', '--out', 'text-run', '--steps', '8', '--json'], cwd));
    expect(resumed.steps).toBe(8);
  }, 120_000);

  it('tokenize refuses an --out that is not .bin or already exists, and token files as input', async () => {
    expectOneLineError(await runCli(['tokenize', '--data', 'input.txt', '--out', 'shakes.txt'], cwd), 1, /--out shakes\.txt does not end in \.bin/);
    expectOneLineError(await runCli(['tokenize', '--data', 'input.txt', '--out', 'shakes.bin'], cwd), 1, /shakes\.bin already exists.*--overwrite/);
    expectOneLineError(await runCli(['tokenize', '--data', 'shakes.bin', '--out', 'again.bin'], cwd), 1, /is token files already/);
  });
});

describe("a user's tokenizer.json", () => {
  it('trains, saves the whole tokenizer with the checkpoint, and restores it to generate and resume', async () => {
    const cwd = tempDir({ 'input.txt': TEXT, 'tok/tokenizer.json': JSON.stringify(byteLevelBpeJson(TEXT, 40)) });
    const summary = lastJson(await train(cwd, ['--data', 'input.txt', '--tokenizer', 'tok/tokenizer.json', '--out', 'run']));
    expect(Number(summary.bestValBpb)).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(path.join(cwd, 'run', 'last', 'tokenizer.json'), 'utf8')) as {
      type: string;
      tokenizer: { model: { merges: string[] } };
    };
    expect(saved.type).toBe('hf');
    expect(saved.tokenizer.model.merges).toHaveLength(40);
    // The checkpoint no longer needs the file.
    writeFileSync(path.join(cwd, 'tok', 'tokenizer.json'), '{"broken": ');
    const generated = await runCli(['generate', '--checkpoint', 'run', '--prompt', 'First', '--tokens', '5'], cwd);
    expect(generated.code, generated.stderr).toBe(0);
    expect(lastJson(await runCli(['resume', '--out', 'run', '--steps', '7', '--json'], cwd)).steps).toBe(7);
  }, 120_000);
});

describe('corpora from folders, globs and JSONL', () => {
  it('trains on every file of a folder and on the files a glob matches, in sorted order', async () => {
    const cwd = tempDir({
      'texts/b.txt': TEXT.slice(6000),
      'texts/a.txt': TEXT.slice(0, 6000),
      'texts/notes.md': 'skip me\n'.repeat(20),
      'texts/.hidden': 'x',
    });
    const folder = await train(cwd, ['--data', 'texts', '--out', 'folder-run']);
    expect(folder.stderr).toMatch(/shiftmix: data: [\d,]+ train \+ [\d,]+ val tokens from 3 files of char/);
    const glob = await train(cwd, ['--data', 'texts/*.txt', '--out', 'glob-run']);
    expect(glob.stderr).toMatch(/from 2 files of char/);
    expectOneLineError(await train(cwd, ['--data', 'texts/*.none', '--out', 'none-run']), 1, /the glob ".*texts\/\*\.none" matches no files/);
  }, 120_000);

  it('trains on the "text" field of JSONL lines, and names the file and line of a bad one', async () => {
    const lines = TEXT.split('\n\n').map((text) => JSON.stringify({ text, id: 1 }));
    const cwd = tempDir({
      'docs.jsonl': `${lines.join('\n')}\n`,
      'bad.jsonl': `${lines[0]}\n{"text": 3}\n`,
      'torn.jsonl': `${lines[0]}\n{"text": "cut\n`,
      'body.jsonl': lines.map((l) => l.replace('"text"', '"body"')).join('\n'),
    });
    expect(lastJson(await train(cwd, ['--data', 'docs.jsonl', '--tokenizer', 'gpt2', '--out', 'run'])).steps).toBe(6);
    expectOneLineError(await train(cwd, ['--data', 'bad.jsonl', '--out', 'bad']), 1, /bad\.jsonl" line 2 has no non-empty "text" string/);
    expectOneLineError(await train(cwd, ['--data', 'torn.jsonl', '--out', 'torn']), 1, /torn\.jsonl" line 2 is not valid JSON/);
    expectOneLineError(await train(cwd, ['--data', 'body.jsonl', '--out', 'body']), 1, /line 1 has no non-empty "text" string.*name the field/);
    expect(lastJson(await train(cwd, ['--data', 'body.jsonl', '--text-field', 'body', '--out', 'body']))).toMatchObject({ steps: 6 });
  }, 120_000);
});

describe("nanoGPT's token files", () => {
  it('trains on train.bin and val.bin with the characters of a meta.json beside them, and generates text', async () => {
    const chars = [...new Set(TEXT)].sort();
    const ids = Array.from(TEXT, (ch) => chars.indexOf(ch));
    const cut = Math.floor(ids.length * 0.9);
    const cwd = tempDir({
      'shakespeare_char/meta.json': JSON.stringify({ vocab_size: chars.length, itos: Object.fromEntries(chars.map((ch, i) => [i, ch])) }),
    });
    writeFileSync(path.join(cwd, 'shakespeare_char', 'train.bin'), tokenFileBytes(ids.slice(0, cut), 'nanogpt'));
    writeFileSync(path.join(cwd, 'shakespeare_char', 'val.bin'), tokenFileBytes(ids.slice(cut), 'nanogpt'));
    const result = await train(cwd, ['--data', 'shakespeare_char', '--out', 'run']);
    expect(result.stderr).toMatch(
      new RegExp(
        `data: ${cut.toLocaleString('en-US')} train \\+ [\\d,]+ val tokens from 2 files of char \\(${chars.length} characters\\), 1\\.00 bytes per token`,
      ),
    );
    expect(lastJson(result).steps).toBe(6);
    const generated = await runCli(['generate', '--checkpoint', 'run', '--prompt', 'First', '--tokens', '10'], cwd);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout.startsWith('First')).toBe(true);
  }, 120_000);
});

describe('bad tokenizers and token files', () => {
  it('refuses each in one line naming the file and the fix, before anything is written', async () => {
    const small = byteLevelBpeJson(TEXT, 4);
    const cwd = tempDir({ 'input.txt': TEXT, 'broken.json': '{"model": {', 'ids/tokenizer.json': JSON.stringify(small) });
    // Ids past the 261-token vocabulary beside the file.
    writeFileSync(path.join(cwd, 'ids', 'data.bin'), tokenFileBytes(Array.from({ length: 400 }, (_, i) => i % 300)));
    expectOneLineError(await train(cwd, ['--data', 'input.txt', '--tokenizer', 'gpt3', '--out', 'a']), 1, /unknown tokenizer "gpt3"\. Use one of char, gpt2/);
    expectOneLineError(await train(cwd, ['--data', 'input.txt', '--tokenizer', 'broken.json', '--out', 'b']), 1, /broken\.json" is not valid JSON/);
    expectOneLineError(
      await train(cwd, ['--data', 'input.txt', '--tokenizer', 'missing/tokenizer.json', '--out', 'c']),
      1,
      /tokenizer file ".*missing\/tokenizer\.json" does not exist/,
    );
    expectOneLineError(
      await train(cwd, ['--data', 'ids/data.bin', '--out', 'd']),
      1,
      /token id 2\d\d at token \d+ .*data\.bin" is not below the vocabulary size 261/,
    );
    for (const out of ['a', 'b', 'c']) expect(() => readFileSync(path.join(cwd, out, 'run.json'))).toThrow();
  }, 120_000);
});
