import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { MetricsLog, parseMetrics } from './metrics.js';
import { resume } from './resume.js';
import { lockRunDirectory, RUN_LOCK_FILE } from './run-lock.js';
import { patternIds, TinyModel } from './stand-ins.test-util.js';
import { train } from './trainer.js';
import { TextDataset } from '../data/dataset.js';

let root: string;
const data = new TextDataset(patternIds(2000, 11));
const tinyConfig = { contextLength: 8, vocabSize: 11, dim: 6, dropout: 0, seed: 5 };
const recipe = { steps: 4, batch: 2, evalEvery: 2, evalBatches: 1, warmup: 1 };

/** The pid of a process that has ended (its own child, waited for: nothing reuses it this soon). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('run directory lock', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'shiftmix-lock-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('holds pid, host, command and start time, refuses a second holder naming the first, and releases', async () => {
    const dir = join(root, 'held');
    const lock = lockRunDirectory(dir, { command: 'shiftmix train --out held' });
    const file = join(dir, RUN_LOCK_FILE);
    const holder = JSON.parse(await readFile(file, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), command: 'shiftmix train --out held' });
    expect(Date.parse(holder.started)).not.toBeNaN();
    const second = () => lockRunDirectory(dir);
    expect(second).toThrow(
      new RegExp(`run directory ${dir} is in use by process ${process.pid} \\(shiftmix train --out held\\) since ${holder.started}\\. Wait for it to finish`),
    );
    expect(second).toThrow(expect.objectContaining({ code: 'E_RUN_LOCKED' }));

    // train() and resume() take the same lock: neither writes a directory another holds.
    const model = new TinyModel(tinyConfig);
    await expect(train({ model, data, recipe, outDir: dir })).rejects.toMatchObject({ code: 'E_RUN_LOCKED' });
    expect(await readdir(dir)).toEqual([RUN_LOCK_FILE]);
    lock.release();
    lock.release();
    expect(existsSync(file)).toBe(false);
    await train({ model, data, recipe, outDir: dir });
    expect(existsSync(file)).toBe(false);
    const relocked = lockRunDirectory(dir);
    await expect(resume(dir, { data, createModel: (c) => new TinyModel(c as typeof tinyConfig), steps: 6 })).rejects.toMatchObject({ code: 'E_RUN_LOCKED' });
    // A lock the caller holds is used, not taken again.
    const resumed = await resume(dir, { data, createModel: (c) => new TinyModel(c as typeof tinyConfig), steps: 6, lock: relocked });
    expect(resumed.steps).toBe(6);
    expect(relocked.held).toBe(true);
    relocked.release();
    resumed.model.dispose();
    model.dispose();
  });

  it('takes over a lock whose process has ended, with a warning, and never one of another host', async () => {
    const dir = join(root, 'stale');
    const file = join(dir, RUN_LOCK_FILE);
    const pid = deadPid();
    lockRunDirectory(dir).release();
    await writeFile(file, JSON.stringify({ pid, host: hostname(), command: 'shiftmix train --out stale', started: '2020-01-01T00:00:00.000Z', token: 'x' }));
    const warnings: string[] = [];
    const lock = lockRunDirectory(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      `${file} was left by process ${pid} (shiftmix train --out stale) since 2020-01-01T00:00:00.000Z, which is no longer running; taking the directory over`,
    ]);
    expect(JSON.parse(await readFile(file, 'utf8')).pid).toBe(process.pid);
    lock.release();

    await writeFile(file, JSON.stringify({ pid, host: 'elsewhere', command: 'x', started: '2020-01-01T00:00:00.000Z', token: 'y' }));
    expect(() => lockRunDirectory(dir)).toThrow(new RegExp(`in use by process ${pid} on elsewhere .*delete ${file.replace(/[.]/g, '\\.')}`));
    await writeFile(file, '{"pid":');
    expect(() => lockRunDirectory(dir)).toThrow(/locked by .*run\.lock, which cannot be read\. If no shiftmix process is writing/);
    // A lock that is not its own is left in place on release.
    const other = JSON.stringify({ pid, host: 'elsewhere', command: 'x', started: '2020-01-01T00:00:00.000Z', token: 'z' });
    await rm(file);
    const mine = lockRunDirectory(dir);
    await writeFile(file, other);
    mine.release();
    expect(await readFile(file, 'utf8')).toBe(other);
    expect((await readdir(dir)).sort()).toEqual([RUN_LOCK_FILE]);
  });

  it('names a run directory that cannot be created', async () => {
    const blocker = join(root, 'a-file');
    await writeFile(blocker, 'x');
    expect(() => lockRunDirectory(join(blocker, 'run'))).toThrow(
      /cannot write the run directory .*a-file\/run \(ENOTDIR\)\. Choose a directory you can write to/,
    );
  });
});

describe('metrics.jsonl on resume', () => {
  it('drops a torn last line, and lines written after one, instead of keeping them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shiftmix-metrics-'));
    const path = join(dir, 'metrics.jsonl');
    const line = (step: number) => `${JSON.stringify({ step, trainLoss: 1, valLoss: null, lr: 0.1, gradNorm: 1, tokensPerSecond: 1, elapsed: 1 })}\n`;
    const good = line(1) + line(2);
    // Two writers interleaved: a torn line from one, whole lines after it from the other.
    await writeFile(path, `${good}{"step":3,"trainLo${line(3)}${line(4)}`);
    const log = await MetricsLog.open(path, Buffer.byteLength(good) + 200);
    expect(log.bytes).toBe(Buffer.byteLength(good));
    await log.append({ step: 3, trainLoss: 2, valLoss: null, lr: 0.1, gradNorm: 1, tokensPerSecond: 1, elapsed: 2 });
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(parseMetrics(text).map((r) => r.step)).toEqual([1, 2, 3]);
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .every((l) => JSON.parse(l).step > 0),
    ).toBe(true);

    // A checkpoint position in the middle of a line keeps only the lines before it.
    const cut = await MetricsLog.open(path, Buffer.byteLength(good) - 5);
    expect(cut.bytes).toBe(Buffer.byteLength(line(1)));
    await cut.close();
    expect(await readFile(path, 'utf8')).toBe(line(1));
    await rm(dir, { recursive: true, force: true });
  });
});
