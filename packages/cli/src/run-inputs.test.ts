import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '@shiftmix/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir, type RunResult, TINY_TRAIN_FLAGS } from './test-helpers.js';

const LINES = ['the quick brown fox jumps over the lazy dog', 'pack my box with five dozen liquor jugs', 'how vexingly quick daft zebras jump'];
const TEXT = Array.from({ length: 40 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n';
// The same characters in another order: a tokenizer accepts it, the losses do not compare.
const SHUFFLED = Array.from({ length: 40 }, (_, i) => LINES[(i * 2 + 1) % LINES.length]).join('\n') + '\n';
const TINY = TINY_TRAIN_FLAGS;
const train = (out: string, extra: string[] = []) => ['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', out, '--steps', '6', ...TINY, ...extra];

/** A folder where this process cannot create anything: a read-only folder, or for root, which may write those, /sys. */
function unwritableFolder(cwd: string): string {
  if (process.getuid?.() === 0) return '/sys';
  const dir = path.join(cwd, 'read-only');
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  return dir;
}

function expectCode(result: RunResult, code: number): void {
  expect(result.code, result.stderr).toBe(code);
}

/** After progress lines, the run's error: one `shiftmix:` line, the last. */
function expectErrorAfterProgress(result: RunResult, pattern: RegExp): string {
  expectCode(result, 1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(
    lines.filter((l, i) => l.startsWith('shiftmix:') && !(i === 0 && /^shiftmix: (training|resuming)/.test(l)) && !l.startsWith('shiftmix: data: ')),
    result.stderr,
  ).toEqual([lines[lines.length - 1]]);
  expect(lines[lines.length - 1]).toMatch(pattern);
  return lines[lines.length - 1];
}

/** Sets one value of a tensor of the checkpoint in `dir` and re-records the file's size and hash, as a tool that saved a diverged model would. */
function poison(dir: string, tensor: string, value: number): void {
  const file = path.join(dir, 'weights.safetensors');
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)));
  (tensors[tensor].data as Float32Array)[0] = value;
  const bytes = encodeSafetensors(tensors, metadata);
  writeFileSync(file, bytes);
  const configFile = path.join(dir, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { files: Record<string, unknown> };
  config.files['weights.safetensors'] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  writeFileSync(configFile, JSON.stringify(config));
}

describe('output folders', () => {
  it('refuses an empty, file, under-a-file or unwritable --out before any work, leaving nothing behind', async () => {
    const cwd = tempDir({ 'data.txt': TEXT, 'taken.txt': 'keep me' });
    const unwritable = path.join(unwritableFolder(cwd), 'shiftmix-run');
    const before = readdirSync(cwd).sort();
    expectOneLineError(await runCli(train(''), cwd), 1, /^shiftmix: --out is empty\. Pass a directory, e\.g\. --out runs\/hsm \(it is created when missing\)$/);
    expectOneLineError(
      await runCli(train('taken.txt'), cwd),
      1,
      /^shiftmix: --out taken\.txt is a file, not a directory\. Pass the path of a directory, new or existing$/,
    );
    expectOneLineError(
      await runCli(train('taken.txt/run'), cwd),
      1,
      /--out taken\.txt\/run cannot be created: .*taken\.txt is a file\. Pass a path that is not under a file$/,
    );
    expectOneLineError(
      await runCli(train(unwritable), cwd),
      1,
      /--out .*shiftmix-run cannot be created: .* is not writable \(E[A-Z]+\)\. Pass a directory you can write to, or change the permissions of/,
    );
    expectOneLineError(await runCli(['resume', '--out', ''], cwd), 1, /^shiftmix: --out is empty\./);
    expectOneLineError(await runCli(['resume', '--out', 'taken.txt'], cwd), 1, /--out taken\.txt is not a directory/);
    expectOneLineError(await runCli(['export', '--checkpoint', 'nowhere', '--out', 'taken.txt'], cwd), 1, /--out taken\.txt is a file, not a directory/);
    expectOneLineError(await runCli(['export', '--checkpoint', 'nowhere', '--out', ''], cwd), 1, /--out is empty/);
    expectOneLineError(await runCli(['bench', '--out', 'taken.txt'], cwd), 1, /--out taken\.txt is a file, not a directory/);
    expectOneLineError(await runCli(['bench', '--results', ''], cwd), 1, /--results is empty/);
    expect(readdirSync(cwd).sort()).toEqual(before);
    expect(readFileSync(path.join(cwd, 'taken.txt'), 'utf8')).toBe('keep me');
  });

  it('removes a run folder it created when the run fails before training', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    expectOneLineError(await runCli(train('fresh', ['--tune']), cwd), 1, /--tune tunes the webgpu kernels/);
    expect(existsSync(path.join(cwd, 'fresh'))).toBe(false);
  });
});

describe('checkpoints whose weights are not finite', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = tempDir({ 'data.txt': TEXT });
    expectCode(await runCli(train('run'), cwd), 0);
    poison(path.join(cwd, 'run', 'best'), 'wte', Number.NaN);
    poison(path.join(cwd, 'run', 'last'), 'lnf.gamma', Number.POSITIVE_INFINITY);
  });

  it('are refused by eval, generate, export and resume, naming the tensor and the checkpoint; export writes nothing', async () => {
    const best = path.join(cwd, 'run', 'best');
    const nan = new RegExp(
      `checkpoint ${best}: weights\\.safetensors tensor "wte" holds NaN \\(1 of \\d+ values are not finite, the first at index 0\\)\\. These weights are unusable`,
    );
    expectOneLineError(await runCli(['eval', '--checkpoint', 'run', '--data', 'data.txt', '--backend', 'cpu'], cwd), 1, nan);
    expectOneLineError(await runCli(['generate', '--checkpoint', 'run', '--prompt', 'the', '--tokens', '3', '--backend', 'cpu'], cwd), 1, nan);
    expectOneLineError(await runCli(['export', '--checkpoint', 'run', '--out', 'onnx'], cwd), 1, nan);
    expect(existsSync(path.join(cwd, 'onnx'))).toBe(false);
    expectOneLineError(await runCli(['resume', '--out', 'run', '--steps', '9'], cwd), 1, /last: weights\.safetensors tensor "lnf\.gamma" holds Infinity/);
  });
});

describe('after a divergence', () => {
  it('keeps the last sane checkpoint and prints a resume command with --lr that works; later resumes keep the rate', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    expectCode(await runCli(train('run'), cwd), 0);
    const diverged = await runCli(['resume', '--out', 'run', '--steps', '30', '--lr', '50'], cwd);
    const line = expectErrorAfterProgress(
      diverged,
      /^shiftmix: training diverged at step 9: the validation loss is [\d.e+]+, more than 2 times [\d.]+, the loss the run started from; the last good checkpoint \(.*last, step 6\) was kept\. Resume from it with a lower learning rate: shiftmix resume --out run --steps 30 --lr 0\.001$/,
    );
    const state = JSON.parse(readFileSync(path.join(cwd, 'run', 'last', 'state.json'), 'utf8')) as { step: number };
    expect(state.step).toBe(6);

    // The printed command, as printed.
    const command = line.slice(line.indexOf('shiftmix resume ') + 'shiftmix '.length).split(' ');
    const fixed = await runCli([...command, '--json'], cwd);
    expectCode(fixed, 0);
    expect(JSON.parse(fixed.stdout.trim().split('\n').pop()!)).toMatchObject({ steps: 30, stopped: false });
    const recipe = () => (JSON.parse(readFileSync(path.join(cwd, 'run', 'last', 'config.json'), 'utf8')) as { recipe: Record<string, number> }).recipe;
    expect(recipe()).toMatchObject({ steps: 30, lr: 0.001, minLr: 1e-4 });
    expectCode(await runCli(['resume', '--out', 'run', '--steps', '33'], cwd), 0);
    expect(recipe()).toMatchObject({ steps: 33, lr: 0.001 });
    expectOneLineError(await runCli(['resume', '--out', 'run', '--steps', '40', '--min-lr', '0.5'], cwd), 1, /minLr 0\.5 is outside \[0, lr = 0\.001\]/);
  });

  it('says to train again with a lower --lr when no checkpoint was saved', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    const result = await runCli(train('run', ['--lr', '50']), cwd);
    expectErrorAfterProgress(
      result,
      /^shiftmix: training diverged at step 3: .*; no checkpoint had been saved\. Run the same shiftmix train command again with a lower learning rate, --lr 0\.001$/,
    );
    expect(existsSync(path.join(cwd, 'run', 'last'))).toBe(false);
    expectCode(await runCli(train('run', ['--lr', '0.001']), cwd), 0);
  });
});

describe('resume on another text', () => {
  it('warns once, in one line, that the best validation loss no longer compares, and records the new text', async () => {
    const cwd = tempDir({ 'data.txt': TEXT, 'other.txt': SHUFFLED });
    expectCode(await runCli(train('run'), cwd), 0);
    const info = () => JSON.parse(readFileSync(path.join(cwd, 'run', 'run.json'), 'utf8')) as { data: string; dataSha256: string };
    expect(info().dataSha256).toBe(createHash('sha256').update(TEXT).digest('hex'));
    const same = await runCli(['resume', '--out', 'run', '--steps', '7'], cwd);
    expectCode(same, 0);
    expect(same.stderr).not.toMatch(/warning/);

    const other = await runCli(['resume', '--out', 'run', '--steps', '8', '--data', 'other.txt'], cwd);
    expectCode(other, 0);
    const warnings = other.stderr.split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^shiftmix: warning: --data other\.txt is not the text this run was trained on \(its SHA-256 differs from run\.json's\): its validation split is another, so the best validation loss so far \([\d.]+, best\/\) does not compare with the losses from here on$/,
    );
    expect(info()).toEqual(expect.objectContaining({ data: path.join(cwd, 'other.txt'), dataSha256: createHash('sha256').update(SHUFFLED).digest('hex') }));
    const again = await runCli(['resume', '--out', 'run', '--steps', '9'], cwd);
    expectCode(again, 0);
    expect(again.stderr).not.toMatch(/warning/);
  });
});
