import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDataFiles, prepareSuite } from './prepare.js';
import { runSuite } from './runner.js';
import type { Suite } from './suite/types.js';

const suite = (data: string): Suite => ({
  name: 'placed',
  seed: 1,
  benchmarks: [
    {
      name: 'lm',
      task: 'lm-char',
      data,
      models: { a: { layers: 'hsm-ab' } },
      presets: { quick: { dim: 8, heads: 1, contextLength: 8, batch: 2, steps: 2, evalEvery: 2, evalBatches: 1, warmup: 1, dropout: 0 } },
    },
  ],
});

/** A project folder with its text in data/ and its suite file in suites/. */
function project(data: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shiftmix-bench-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'suites'));
  writeFileSync(join(dir, 'data', 'text.txt'), 'the quick brown fox jumps over the lazy dog. '.repeat(10));
  writeFileSync(join(dir, 'suites', 'placed.json'), JSON.stringify(suite(data)));
  return dir;
}

describe("a suite's data file", () => {
  it('is looked for in the folder of the suite file, which the error names, with the path to write instead', async () => {
    const dir = project('data/text.txt');
    const suitesDir = join(dir, 'suites');
    await expect(runSuite({ suite: './suites/placed.json', backend: 'cpu', cwd: dir, quiet: true })).rejects.toThrow(
      `benchmark "lm" reads its data "data/text.txt" from ${join(suitesDir, 'data', 'text.txt')}, which does not exist. "data" is relative to the folder of the suite file, ${suitesDir}: write "data": "../data/text.txt" for the file you mean`,
    );
    // Refused before any run: nothing was trained or written.
    expect(existsSync(join(dir, 'bench-results'))).toBe(false);
  });

  it('is found where the error says, and a suite given as an object reads it from the working directory', () => {
    const dir = project('../data/text.txt');
    const prepared = prepareSuite({ suite: './suites/placed.json', cwd: dir }, 'cpu');
    expect(prepared.baseDir).toBe(join(dir, 'suites'));
    expect(() => checkDataFiles(prepared, dir)).not.toThrow();
    const given = prepareSuite({ suite: suite('data/text.txt'), cwd: dir }, 'cpu');
    expect(given.baseDir).toBe(dir);
    expect(() => checkDataFiles(given, dir)).not.toThrow();
    expect(() => checkDataFiles(prepareSuite({ suite: suite('nope.txt'), cwd: dir }, 'cpu'), dir)).toThrow(
      `"data" is relative to the working directory, ${dir} (the suite has no file); give a path from there or an absolute one`,
    );
  });
});
