import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { main } from './main.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams. */
export async function runCli(argv: string[], cwd: string = process.cwd()): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    cwd,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

/** A fresh directory with the given files (paths relative to it; parents are created). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shiftmix-cli-'));
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

// What train and resume print before their first step (printRunStart), not part of an error.
const RUN_START = /^shiftmix: (training|resuming at step \d+:) "/;
// The line train prints after it: what the data holds.
const DATA_LINE = /^shiftmix: data: /;

/**
 * Asserts the run failed with exactly one `shiftmix: ...` line on stderr and no stack
 * (after the run-start line, when the error came once training had begun).
 */
export function expectOneLineError(result: RunResult, exitCode: number, pattern: RegExp): string {
  expect(result.code, result.stderr).toBe(exitCode);
  const lines = result.stderr
    .trimEnd()
    .split('\n')
    .filter((line, i) => !(i === 0 && RUN_START.test(line)) && !DATA_LINE.test(line));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^shiftmix: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]).not.toMatch(/\n\s+at /);
  return lines[0];
}

/**
 * Source of a plugin module exporting a mixer spec that needs no tensors: enough to be
 * listed and sized. Its parameter count is 3 D + heads, so tests can check the context
 * the CLI passes.
 */
export function pluginSpecSource(name: string, exportLine: (spec: string) => string): string {
  const spec = `{
  specificationVersion: 1,
  name: '${name}',
  description: 'test mixer ${name}',
  shiftBased: true,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx) => 3 * ctx.dim + ctx.heads,
  create: () => { throw new Error('not trainable'); },
}`;
  return `${exportLine(spec)}\n`;
}

/**
 * Flags of a training run small enough for a test: D 16, 2 heads, context 16, batch 4, an
 * FFN of 32, evaluation every 3 steps over 2 batches, on the cpu backend.
 */
export const TINY_TRAIN_FLAGS = [
  '--dim',
  '16',
  '--heads',
  '2',
  '--ctx',
  '16',
  '--batch',
  '4',
  '--ffn',
  '32',
  '--eval-every',
  '3',
  '--eval-batches',
  '2',
  '--warmup',
  '2',
  '--backend',
  'cpu',
];
