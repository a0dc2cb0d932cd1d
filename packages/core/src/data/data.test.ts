import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { Rng } from '../rng.js';
import { tf } from '../tf.js';
import { TextDataset } from './dataset.js';
import { loadTextFile } from './load.js';

describe('TextDataset', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const ids = Int32Array.from({ length: 1000 }, (_, i) => i);

  it('splits 90/10 in order', () => {
    const ds = new TextDataset(ids);
    expect(ds.train.length).toBe(900);
    expect(ds.val.length).toBe(100);
    expect(ds.train[899]).toBe(899);
    expect(ds.val[0]).toBe(900);
    expect(new TextDataset(Int32Array.from({ length: 1115394 }), { valFraction: 0.1 }).train.length).toBe(1003854);
    expect(new TextDataset(ids, { valFraction: 0.25 }).val.length).toBe(250);
    expect(() => new TextDataset(ids, { valFraction: 1 })).toThrow(/valFraction 1/);
    expect(() => new TextDataset(new Int32Array(0))).toThrow(/no tokens/);
  });

  it('draws windows whose targets are the inputs shifted by one, inside the split', () => {
    const ds = new TextDataset(ids);
    for (const split of ['train', 'val'] as const) {
      const a = ds.sampleArrays(split, 16, 20, new Rng(3));
      for (let b = 0; b < 16; b++) {
        const x = Array.from(a.x.subarray(b * 20, b * 20 + 20));
        const y = Array.from(a.y.subarray(b * 20, b * 20 + 20));
        // ids equal positions, so a window is consecutive numbers.
        expect(x.map((v, t) => v - t)).toEqual(new Array(20).fill(x[0]));
        expect(y).toEqual(x.map((v) => v + 1));
        const [lo, hi] = split === 'train' ? [0, 899] : [900, 999];
        expect(x[0]).toBeGreaterThanOrEqual(lo);
        expect(y[19]).toBeLessThanOrEqual(hi);
      }
    }
  });

  it('is deterministic for a seed and varies across draws', () => {
    const ds = new TextDataset(ids);
    const a = ds.sampleArrays('train', 8, 10, new Rng(42));
    const b = ds.sampleArrays('train', 8, 10, new Rng(42));
    const c = ds.sampleArrays('train', 8, 10, new Rng(43));
    expect(a.x).toEqual(b.x);
    expect(a.x).not.toEqual(c.x);
    const f1 = ds.fixedBatches('val', 3, 4, 10, 7);
    const f2 = ds.fixedBatches('val', 3, 4, 10, 7);
    expect(f1.map((x) => x.x.arraySync())).toEqual(f2.map((x) => x.x.arraySync()));
    expect(f1[0].x.arraySync()).not.toEqual(f1[1].x.arraySync());
    expect(f1[0].x.dtype).toBe('int32');
    expect(f1[0].y.shape).toEqual([4, 10]);
    const t = ds.sampleBatch('train', 2, 5, new Rng(1));
    expect(
      tf
        .sub(t.x.slice([0, 1], [2, 4]), t.y.slice([0, 0], [2, 4]))
        .abs()
        .max()
        .dataSync()[0],
    ).toBe(0);
    tf.dispose([...f1, ...f2, t].flatMap((x) => [x.x, x.y]));
  });

  it('explains when the context does not fit the split', () => {
    const ds = new TextDataset(ids);
    expect(() => ds.sampleArrays('val', 1, 100, new Rng(1))).toThrow(/context of 100 tokens needs at least 101 tokens in the val split, which has 100/);
    expect(ds.sampleArrays('val', 1, 99, new Rng(1)).x.length).toBe(99);
    expect(() => ds.sampleArrays('train', 0, 4, new Rng(1))).toThrow(/batch size 0/);
    expect(() => ds.sampleArrays('test' as never, 1, 4, new Rng(1))).toThrow(/unknown split/);
  });
});

describe('loadTextFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shiftmix-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads UTF-8 text and rejects missing, empty, binary and directory paths', async () => {
    await writeFile(join(dir, 'ok.txt'), '\uFEFFhéllo\n');
    await writeFile(join(dir, 'empty.txt'), '');
    await writeFile(join(dir, 'nul.bin'), Buffer.from([104, 105, 0, 1]));
    await writeFile(join(dir, 'latin1.txt'), Buffer.from([104, 233, 108]));
    expect(await loadTextFile(join(dir, 'ok.txt'))).toBe('héllo\n');
    await expect(loadTextFile(join(dir, 'missing.txt'))).rejects.toThrow(/does not exist/);
    await expect(loadTextFile(join(dir, 'empty.txt'))).rejects.toThrow(/is empty/);
    await expect(loadTextFile(join(dir, 'nul.bin'))).rejects.toThrow(/UTF-8 text/);
    await expect(loadTextFile(join(dir, 'latin1.txt'))).rejects.toThrow(/UTF-8 text/);
    await expect(loadTextFile(dir)).rejects.toThrow(/is a directory/);
  });
});
