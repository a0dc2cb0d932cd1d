import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir } from './test-helpers.js';
import { killAll, spawnCli } from './test-processes.js';

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

/** A suite whose mqar benchmark sweeps settings x dims x learning rates x models. */
const gridSuite = (settings: number, dims: number, rates: number, models: number) => ({
  name: 'grid',
  seed: 1,
  benchmarks: [
    {
      name: 'recall',
      task: 'mqar',
      models: Object.fromEntries(Array.from({ length: models }, (_, i) => [`m${i}`, { layers: 'hsm-ab' }])),
      presets: {
        quick: {
          settings: Array.from({ length: settings }, (_, i) => ({ seqLen: 8 + 2 * i, pairs: 1 })),
          dims: Array.from({ length: dims }, (_, i) => 8 + i),
          lr: Array.from({ length: rates }, (_, i) => 1e-3 * (i + 1)),
        },
      },
    },
  ],
});

describe('shiftmix bench, refusing before it starts', () => {
  afterAll(() => killAll());

  it('counts the runs of a suite of millions before building them, and refuses it with the count and --max-runs', { timeout: 120_000 }, async () => {
    const dir = tempDir({ 'huge.json': JSON.stringify(gridSuite(100, 100, 100, 5)), 'small.json': JSON.stringify(gridSuite(2, 3, 2, 1)) });
    const refusal =
      /^shiftmix: suite "grid" expands to 5,000,000 runs under preset "quick", more than the limit of 10,000 \(benchmark "recall": 100 settings x 100 dims x 100 learning rates x 5 models\)\. Make its sweep smaller, or allow that many runs with --max-runs 5000000/;
    // Locally and on a queue (refused before it connects: nothing listens on port 1).
    for (const extra of [[], ['--queue', 'redis://127.0.0.1:1']]) {
      const cli = spawnCli(['bench', '--suite', './huge.json', '--backend', 'cpu', ...extra], dir);
      expect(await cli.done, cli.stderr()).toBe(1);
      expect(cli.stderr().trimEnd().split('\n'), cli.stderr()).toHaveLength(1);
      expect(cli.stderr()).toMatch(refusal);
    }
    // The limit is the flag's: 12 runs pass at --max-runs 12 (shard 13 of 13 then holds none of them).
    const over = spawnCli(['bench', '--suite', './small.json', '--backend', 'cpu', '--max-runs', '11'], dir);
    expect(await over.done).toBe(1);
    expect(over.stderr()).toMatch(/expands to 12 runs under preset "quick", more than the limit of 11 .*--max-runs 12/);
    const at = spawnCli(['bench', '--suite', './small.json', '--backend', 'cpu', '--max-runs', '12', '--shard', '13/13', '--out', 'o', '--json'], dir);
    expect(await at.done, at.stderr()).toBe(0);
    expect(JSON.parse(at.stdout())).toMatchObject({ ran: [], failed: [], pending: [] });
  });

  it("names the folder a suite's data path is read from, and the path to write for the file meant", async () => {
    const dir = tempDir({
      'data/text.txt': 'all the world is a stage and all the men and women merely players. '.repeat(10),
      'suites/tiny.json': JSON.stringify({ ...tinySuite, benchmarks: [{ ...tinySuite.benchmarks[0], data: 'data/text.txt' }] }),
    });
    const suites = path.join(dir, 'suites');
    const expected = `shiftmix: benchmark "lm" reads its data "data/text.txt" from ${path.join(suites, 'data', 'text.txt')}, which does not exist. "data" is relative to the folder of the suite file, ${suites}: write "data": "../data/text.txt" for the file you mean`;
    for (const extra of [[], ['--queue', 'redis://127.0.0.1:1']]) {
      const cli = spawnCli(['bench', '--suite', './suites/tiny.json', '--backend', 'cpu', '--out', 'out', ...extra], dir);
      expect(await cli.done, cli.stderr()).toBe(1);
      expect(cli.stderr().trimEnd()).toBe(expected);
    }
    // Nothing was run: the suite is refused before its first run.
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

describe('shiftmix worker', () => {
  it('needs a queue, and names a Redis it cannot reach', async () => {
    const dir = tempDir();
    expectOneLineError(await runCli(['worker'], dir), 2, /"shiftmix worker" needs --queue/);
    expectOneLineError(
      await runCli(['worker', '--queue', 'redis://127.0.0.1:1', '--backend', 'cpu'], dir),
      1,
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connection refused: nothing listens on that host and port \(ECONNREFUSED\)/,
    );
    const help = await runCli(['worker', '--help'], dir);
    expect(help.stdout).toMatch(/--lock-seconds S +Seconds before a run held by a worker that stopped answering goes to another worker \(default: 30\)/);
  });
});
