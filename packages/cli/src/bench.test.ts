import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir } from './test-helpers.js';

const tinySuite = {
  name: 'tiny',
  seed: 3,
  benchmarks: [
    {
      name: 'lm',
      task: 'lm-char',
      data: 'text.txt',
      models: { shift: { layers: 'hsm-ab*2' }, attn: { layers: 'softmax-attention' } },
      presets: { quick: { dim: 8, heads: 2, contextLength: 8, batch: 2, steps: 2, evalEvery: 2, evalBatches: 1, warmup: 1, dropout: 0 } },
    },
  ],
};

describe('shiftmix bench', () => {
  it('runs a suite file, writes one JSON per run and a report, and skips finished runs when run again', async () => {
    const dir = tempDir({
      'text.txt': 'all the world is a stage and all the men and women merely players. '.repeat(10),
      'tiny.json': JSON.stringify(tinySuite),
    });
    const out = path.join(dir, 'out');
    const args = ['bench', '--suite', './tiny.json', '--backend', 'cpu', '--out', out, '--json'];
    const first = await runCli(args, dir);
    expect(first.code, first.stderr).toBe(0);
    const runs = readdirSync(path.join(out, 'runs')).filter((f) => f.endsWith('.json'));
    expect(runs).toHaveLength(2);
    const result = JSON.parse(readFileSync(path.join(out, 'runs', runs[0]), 'utf8'));
    expect(result.paramCount).toBeGreaterThan(0);
    expect(Number.isFinite(result.metrics.bestValLoss)).toBe(true);
    const before = readFileSync(path.join(out, 'runs', runs[0]), 'utf8');
    const second = await runCli(args, dir);
    expect(second.code, second.stderr).toBe(0);
    // A finished run is kept as it was (same start time), not trained again.
    expect(readFileSync(path.join(out, 'runs', runs[0]), 'utf8')).toBe(before);
    const forced = await runCli([...args, '--force'], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'runs', runs[0]), 'utf8')).not.toBe(before);
  });

  it('writes under --results DIR/BACKEND/SUITE-PRESET with an index of the folders', async () => {
    const dir = tempDir({
      'text.txt': 'all the world is a stage and all the men and women merely players. '.repeat(10),
      'tiny.json': JSON.stringify(tinySuite),
    });
    const result = await runCli(['bench', '--suite', './tiny.json', '--backend', 'cpu', '--results', 'res', '--only', 'lm', '--models', 'shift'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(path.join(dir, 'res', 'cpu', 'tiny-quick', 'runs'))).toEqual(['lm--shift.json']);
    expect(readFileSync(path.join(dir, 'res', 'README.md'), 'utf8')).toMatch(/tiny-quick/);
  });

  it('names the missing suite and how to give one', async () => {
    const dir = tempDir();
    expectOneLineError(await runCli(['bench', '--suite', 'no-such-suite'], dir), 1, /no suite named "no-such-suite"/);
  });

  it('names in --help the results folder it uses outside a checkout', async () => {
    const help = await runCli(['bench', '--help'], tempDir());
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      /--out DIR +Results folder \(default: \.\/bench-results\/BACKEND\/SUITE-PRESET, or benchmarks\/results\/\.\.\. in a shiftmix checkout\)/,
    );
  });

  it("runs every N-th run with --shard K/N and merges the shards' folders with --merge", async () => {
    const dir = tempDir({
      'text.txt': 'all the world is a stage and all the men and women merely players. '.repeat(10),
      'tiny.json': JSON.stringify(tinySuite),
    });
    const runIds = (out: string) => readdirSync(path.join(dir, out, 'runs')).sort();
    for (const shard of ['1/2', '2/2']) {
      const result = await runCli(['bench', '--suite', './tiny.json', '--backend', 'cpu', '--shard', shard, '--out', `shard-${shard[0]}`, '--json'], dir);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(runIds('shard-1')).toEqual(['lm--shift.json']);
    expect(runIds('shard-2')).toEqual(['lm--attn.json']);
    const merged = await runCli(['bench', '--suite', './tiny.json', '--merge', 'shard-1', '--merge', 'shard-2', '--out', 'all', '--json'], dir);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ backend: 'cpu', ran: ['lm--shift', 'lm--attn'], pending: [] });
    expect(runIds('all')).toEqual(['lm--attn.json', 'lm--shift.json']);
    expect(readFileSync(path.join(dir, 'all', 'runs', 'lm--attn.json'), 'utf8')).toBe(readFileSync(path.join(dir, 'shard-2', 'runs', 'lm--attn.json'), 'utf8'));
    expectOneLineError(await runCli(['bench', '--suite', './tiny.json', '--shard', '3/2'], dir), 1, /shard "3\/2" is not of the form K\/N with 1 <= K <= N/);
    expectOneLineError(await runCli(['bench', '--merge', 'shard-1', '--shard', '1/2'], dir), 2, /--merge only merges finished results/);
  });
});

describe('shiftmix worker', () => {
  it('needs a queue, and names a Redis it cannot reach', async () => {
    const dir = tempDir();
    expectOneLineError(await runCli(['worker'], dir), 2, /"shiftmix worker" needs --queue/);
    expectOneLineError(
      await runCli(['worker', '--queue', 'redis://127.0.0.1:1', '--backend', 'cpu'], dir),
      1,
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
    const help = await runCli(['worker', '--help'], dir);
    expect(help.stdout).toMatch(/--lock-seconds S +Seconds before a run held by a worker that stopped answering goes to another worker \(default: 30\)/);
  });
});
