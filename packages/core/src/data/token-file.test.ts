import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { isShiftmixError } from '../errors.js';
import { ShiftmixModel } from '../model/model.js';
import { toyShift } from '../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { Rng } from '../rng.js';
import { tf } from '../tf.js';
import { patternIds } from '../train/stand-ins.test-util.js';
import { train } from '../train/trainer.js';
import { TextDataset } from './dataset.js';
import { TokenFileDataset } from './token-file.js';
import { LLMC_MAGIC } from './token-format.js';

let dir = '';
const range = (n: number, from = 0) => Int32Array.from({ length: n }, (_, i) => from + i);

/** nanoGPT's layout: the ids as raw little-endian uint16. */
function writeNano(path: string, ids: ArrayLike<number>): string {
  const bytes = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) bytes.writeUInt16LE(ids[i], 2 * i);
  writeFileSync(path, bytes);
  return path;
}

/** llm.c's layout: 256 int32 of header, then the uint16 ids. */
function writeLlmc(path: string, ids: ArrayLike<number>, header: { magic?: number; version?: number; count?: number } = {}): string {
  const head = Buffer.alloc(1024);
  head.writeInt32LE(header.magic ?? LLMC_MAGIC, 0);
  head.writeInt32LE(header.version ?? 1, 4);
  head.writeInt32LE(header.count ?? ids.length, 8);
  const body = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) body.writeUInt16LE(ids[i], 2 * i);
  writeFileSync(path, Buffer.concat([head, body]));
  return path;
}

function sub(name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

/** The error `fn` throws: a one-line ShiftmixError; and nothing was written to `where`. */
function failure(fn: () => unknown, where = dir): string {
  const before = readdirSync(where, { recursive: true }).sort();
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isShiftmixError(caught), String(caught)).toBe(true);
  const message = (caught as Error).message;
  expect(message).not.toMatch(/\n/);
  expect(readdirSync(where, { recursive: true }).sort()).toEqual(before);
  return message;
}

describe('TokenFileDataset', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'shiftmix-tokens-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads both formats into the exact windows TextDataset draws from the same tokens and seed', () => {
    const ids = range(1000);
    const text = new TextDataset(ids);
    for (const [format, path] of [
      ['nanogpt', writeNano(join(dir, 'plain.bin'), ids)],
      ['llmc', writeLlmc(join(dir, 'plain-llmc.bin'), ids)],
    ] as const) {
      const ds = TokenFileDataset.open(path, { vocabSize: 1000 });
      expect(ds.formats).toEqual({ train: format, val: format });
      expect(ds.tokens).toEqual({ train: 900, val: 100 });
      // A window as long as the split allows starts at its first token: exact contents.
      const whole = ds.sampleArrays('train', 1, 899, new Rng(1));
      expect(Array.from(whole.x)).toEqual(Array.from(range(899)));
      expect(Array.from(whole.y)).toEqual(Array.from(range(899, 1)));
      expect(Array.from(ds.sampleArrays('val', 1, 99, new Rng(1)).y)).toEqual(Array.from(range(99, 901)));
      for (const split of ['train', 'val'] as const) {
        const a = ds.sampleArrays(split, 16, 20, new Rng(3));
        const b = text.sampleArrays(split, 16, 20, new Rng(3));
        expect(a.x).toEqual(b.x);
        expect(a.y).toEqual(b.y);
        expect(new Set(a.x).size).toBeGreaterThan(40); // the starts vary
      }
      ds.close();
    }
  });

  it('splits one file at floor(0.9 n) and otherwise uses the separate validation file', () => {
    const one = TokenFileDataset.open(writeNano(join(dir, 'odd-count.bin'), range(1005)), { vocabSize: 1005 });
    expect(one.tokens).toEqual({ train: 904, val: 101 });
    expect(one.sampleArrays('val', 1, 100, new Rng(9)).x[0]).toBe(904);
    one.close();
    const quarter = TokenFileDataset.open(join(dir, 'odd-count.bin'), { vocabSize: 1005, valFraction: 0.25 });
    expect(quarter.tokens).toEqual({ train: 753, val: 252 });
    quarter.close();

    // nanoGPT's directory layout, named by the directory, the training file, or both files.
    const nano = sub('nano');
    writeNano(join(nano, 'train.bin'), range(300));
    writeNano(join(nano, 'val.bin'), range(50, 500));
    writeFileSync(join(nano, 'meta.json'), JSON.stringify({ vocab_size: 600 }));
    for (const path of [nano, join(nano, 'train.bin'), { train: join(nano, 'train.bin'), val: join(nano, 'val.bin') }]) {
      const ds = TokenFileDataset.open(path);
      expect(ds).toMatchObject({ vocabSize: 600, tokens: { train: 300, val: 50 }, files: { train: join(nano, 'train.bin'), val: join(nano, 'val.bin') } });
      expect(Array.from(ds.sampleArrays('train', 1, 299, new Rng(1)).x.subarray(0, 3))).toEqual([0, 1, 2]);
      expect(Array.from(ds.sampleArrays('val', 1, 49, new Rng(1)).y.subarray(0, 3))).toEqual([501, 502, 503]);
      ds.close();
    }
    // llm.c's NAME_train.bin / NAME_val.bin, read in auto mode.
    const llmc = sub('llmc');
    writeLlmc(join(llmc, 'tiny_shakespeare_train.bin'), range(200));
    writeLlmc(join(llmc, 'tiny_shakespeare_val.bin'), range(40, 1000));
    for (const path of [llmc, join(llmc, 'tiny_shakespeare_train.bin')]) {
      const ds = TokenFileDataset.open(path, { vocabSize: 2000 });
      expect(ds).toMatchObject({ tokens: { train: 200, val: 40 }, formats: { train: 'llmc', val: 'llmc' } });
      expect(ds.sampleArrays('val', 1, 39, new Rng(5)).x[0]).toBe(1000);
      ds.close();
    }
    // A training file without its validation file beside it is one file, split.
    const lone = sub('lone');
    const ds = TokenFileDataset.open(writeNano(join(lone, 'train.bin'), range(100)), { vocabSize: 100 });
    expect(ds.tokens).toEqual({ train: 90, val: 10 });
    ds.close();
  });

  it('draws the same batches for the same seed, and fixed batches from the seed alone', () => {
    const ds = TokenFileDataset.open(writeNano(join(dir, 'pattern.bin'), patternIds(5000, 11)), { vocabSize: 11, format: 'nanogpt' });
    const a = ds.sampleArrays('train', 8, 10, new Rng(42));
    expect(ds.sampleArrays('train', 8, 10, new Rng(42))).toEqual(a);
    expect(ds.sampleArrays('train', 8, 10, new Rng(43)).x).not.toEqual(a.x);
    const f1 = ds.fixedBatches('val', 3, 4, 10, 7);
    const f2 = ds.fixedBatches('val', 3, 4, 10, 7);
    expect(f1.map((b) => b.x.arraySync())).toEqual(f2.map((b) => b.x.arraySync()));
    expect(f1[0].x.arraySync()).not.toEqual(f1[1].x.arraySync());
    expect(f1[0].y).toMatchObject({ dtype: 'int32', shape: [4, 10] });
    const text = new TextDataset(patternIds(5000, 11)).fixedBatches('val', 3, 4, 10, 7);
    expect(f1.map((b) => b.y.arraySync())).toEqual(text.map((b) => b.y.arraySync()));
    tf.dispose([...f1, ...f2, ...text].flatMap((b) => [b.x, b.y]));
    ds.close();
    expect(failure(() => ds.sampleArrays('train', 1, 4, new Rng(1)))).toMatch(/are closed\. Open them again/);
    ds.close(); // twice is fine
  });

  it('explains every bad input in one line naming the file and the fix', () => {
    const bad = sub('bad');
    const at = (name: string) => join(bad, name);
    expect(failure(() => TokenFileDataset.open(at('missing.bin'), { vocabSize: 10 }), bad)).toMatch(
      /token file ".*missing\.bin" does not exist\. Check the path/,
    );
    writeNano(at('t.bin'), range(50));
    expect(failure(() => TokenFileDataset.open({ train: at('t.bin'), val: at('gone.bin') }, { vocabSize: 50 }), bad)).toMatch(/gone\.bin" does not exist/);
    writeFileSync(at('odd.bin'), Buffer.alloc(1001));
    expect(failure(() => TokenFileDataset.open(at('odd.bin'), { vocabSize: 10 }), bad)).toMatch(
      /odd\.bin" has 1001 bytes, not a whole number of uint16 tokens\. A nanoGPT/,
    );
    writeNano(at('plain.bin'), range(600));
    expect(failure(() => TokenFileDataset.open(at('plain.bin'), { vocabSize: 600, format: 'llmc' }), bad)).toMatch(
      /plain\.bin" does not start with llm\.c's magic number 20240520 \(it starts with 65536\)\. .*format "nanogpt"/,
    );
    writeLlmc(at('v2.bin'), range(10), { version: 2 });
    expect(failure(() => TokenFileDataset.open(at('v2.bin'), { vocabSize: 10 }), bad)).toMatch(
      /v2\.bin" is llm\.c token file version 2; this library reads version 1/,
    );
    writeLlmc(at('count.bin'), range(10), { count: 12 });
    expect(failure(() => TokenFileDataset.open(at('count.bin'), { vocabSize: 10 }), bad)).toMatch(
      /count\.bin"'s llm\.c header says 12 tokens, but the file holds 10 after its 1024-byte header/,
    );
    writeLlmc(at('llama.bin'), range(10), { magic: 20240801 });
    expect(failure(() => TokenFileDataset.open(at('llama.bin'), { vocabSize: 10 }), bad)).toMatch(/LLaMA-3 token file .* not supported/);
    expect(failure(() => TokenFileDataset.open(at('plain.bin')), bad)).toMatch(/no vocabulary size .*Pass vocabSize .* meta\.json/);
    expect(failure(() => TokenFileDataset.open(at('plain.bin'), { vocabSize: 70000 }), bad)).toMatch(
      /vocabulary size 70000 .* not a whole number in \[1, 65536\]/,
    );
    expect(failure(() => TokenFileDataset.open(at('plain.bin'), { vocabSize: 600, format: 'gpt' as never }), bad)).toMatch(/unknown token file format "gpt"/);
    writeFileSync(at('empty.bin'), '');
    expect(failure(() => TokenFileDataset.open(at('empty.bin'), { vocabSize: 10 }), bad)).toMatch(/empty\.bin" holds no tokens/);

    // Token ids are checked on the windows read: the id, where it is, and the vocabulary.
    const ids = range(100).map((i) => i % 10);
    ids[37] = 12;
    const ds = TokenFileDataset.open(writeLlmc(at('big-id.bin'), ids), { vocabSize: 10 });
    expect(failure(() => ds.sampleArrays('train', 1, 89, new Rng(1)), bad)).toMatch(
      /token id 12 at token 37 \(byte 1098\) of ".*big-id\.bin" is not below the vocabulary size 10\. Give the tokenizer \(tokenizer\.json beside it\) or vocabSize/,
    );
    // Too few tokens for the context, named with the split and the file.
    expect(failure(() => ds.sampleArrays('val', 1, 10, new Rng(1)), bad)).toMatch(
      /a context of 10 tokens needs at least 11 tokens in the val split of ".*big-id\.bin", which has 10\. Use a shorter context, a larger valFraction/,
    );
    expect(ds.sampleArrays('val', 1, 9, new Rng(1)).x.length).toBe(9);
    expect(failure(() => ds.sampleArrays('train', 0, 4, new Rng(1)), bad)).toMatch(/batch size 0/);
    ds.close();

    writeFileSync(join(bad, 'meta.json'), JSON.stringify({ vocab_size: 500 }));
    expect(failure(() => TokenFileDataset.open(at('plain.bin'), { vocabSize: 600 }), bad)).toMatch(
      /vocabSize option 600 disagrees with vocab_size 500 of ".*meta\.json"/,
    );
    writeFileSync(join(bad, 'meta.json'), '{"vocab_size":');
    expect(failure(() => TokenFileDataset.open(at('plain.bin')), bad)).toMatch(/cannot read ".*meta\.json": .*Write it as JSON/);
  });

  it('samples a file of 320 MB with memory bounded by the windows, not the file', () => {
    // Ids count up modulo 2^16, so every window read anywhere in the file can be checked.
    const path = join(sub('large'), 'large.bin');
    const tokens = 160 * 2 ** 20;
    const chunk = new Uint16Array(4 * 2 ** 20);
    const fd = openSync(path, 'w');
    try {
      for (let first = 0; first < tokens; first += chunk.length) {
        for (let i = 0; i < chunk.length; i++) chunk[i] = (first + i) & 0xffff;
        writeSync(fd, chunk);
      }
    } finally {
      closeSync(fd);
    }
    try {
      const before = process.memoryUsage();
      const ds = TokenFileDataset.open(path, { vocabSize: 65536 });
      expect(ds.tokens).toEqual({ train: Math.floor(tokens * 0.9), val: tokens - Math.floor(tokens * 0.9) });
      const rng = new Rng(1);
      let checked = 0;
      for (let i = 0; i < 400; i++) {
        const a = ds.sampleArrays(i % 4 === 0 ? 'val' : 'train', 16, 512, rng);
        for (let j = 0; j < a.x.length; j++) {
          if (a.y[j] !== ((a.x[j] + 1) & 0xffff)) throw new Error(`window ${i} is not the file's tokens at ${j}`);
        }
        checked += a.x.length;
      }
      const after = process.memoryUsage();
      ds.close();
      const grew = { rss: (after.rss - before.rss) / 2 ** 20, arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / 2 ** 20 };
      console.info(
        `sampled ${checked} tokens from a ${(tokens * 2) / 2 ** 20} MB file; memory grew by ${grew.rss.toFixed(1)} MB (rss), ${grew.arrayBuffers.toFixed(1)} MB (arrayBuffers)`,
      );
      expect(grew.rss).toBeLessThan(50);
      expect(grew.arrayBuffers).toBeLessThan(50);
    } finally {
      rmSync(path, { force: true });
    }
  }, 120_000);

  it('trains from a token file: the same run as from the same tokens in memory, and the loss falls', async () => {
    registerMixer(toyShift);
    try {
      const ids = patternIds(4000, 11);
      const config = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0, seed: 11 };
      const recipe = { steps: 40, batch: 8, evalEvery: 40, evalBatches: 4, warmup: 4, lr: 5e-2, minLr: 5e-3, seed: 3 };
      const data = TokenFileDataset.open(writeNano(join(dir, 'train-me.bin'), ids), { vocabSize: 11 });
      const model = ShiftmixModel.create(config);
      const batches = data.fixedBatches('val', 4, 8, 8, 2024); // the trainer's default evalSeed
      const before = batches.map((b) => tf.tidy(() => model.loss(b.x, b.y, { training: false }).dataSync()[0])).reduce((s, l) => s + l) / 4;
      tf.dispose(batches.flatMap((b) => [b.x, b.y]));
      const losses: number[] = [];
      const summary = await train({ model, data, recipe, onProgress: (e) => losses.push(e.trainLoss) });
      const inMemory: number[] = [];
      const other = ShiftmixModel.create(config);
      await train({ model: other, data: new TextDataset(ids), recipe, onProgress: (e) => inMemory.push(e.trainLoss) });
      expect(losses).toEqual(inMemory);
      // From log(11) = 2.40 to about 2.0 in 40 steps.
      expect(summary.valLoss).toBeLessThan(before - 0.25);
      model.dispose();
      other.dispose();
      data.close();
    } finally {
      unregisterMixer('toy-shift');
    }
  });
});
