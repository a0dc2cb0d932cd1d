import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatCount } from '@shiftmix/core/tooling';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir, type RunResult, TINY_TRAIN_FLAGS } from './test-helpers.js';

// A small text with a handful of distinct characters, enough for tiny windows.
const LINES = ['the quick brown fox jumps over the lazy dog', 'pack my box with five dozen liquor jugs', 'how vexingly quick daft zebras jump'];
const TEXT = Array.from({ length: 40 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n';
const VOCAB = new Set(TEXT).size;
const D = 16;
const FFN = 32;
const CTX = 16;

const TINY = TINY_TRAIN_FLAGS;

function lastJson(result: RunResult): Record<string, unknown> {
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

describe('train, resume, generate, eval and export on one tiny run', () => {
  let cwd: string;
  let summary: Record<string, unknown>;
  let trainErr = '';

  beforeAll(async () => {
    cwd = tempDir({ 'data.txt': TEXT, 'other.txt': 'the lazy zebra\n'.repeat(10) });
    const result = await runCli(['train', '--data', 'data.txt', '--layers', 'hsm-ab*2', '--out', 'run', '--steps', '6', '--json', ...TINY], cwd);
    summary = lastJson(result);
    trainErr = result.stderr;
  });

  it('says what it trains, where and how much per step before the first step', () => {
    const first = trainErr.split('\n')[0];
    expect(first).toBe(`shiftmix: training "hsm-ab*2" (${formatCount(summary.params as number)} parameters) on cpu, 4 x 16 = 64 tokens per step, 6 steps`);
  });

  it('trains and ends stdout with the JSON summary', () => {
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining(['params', 'steps', 'trainLoss', 'valLoss', 'bestValLoss', 'tokensPerSecond', 'seconds', 'backend']),
    );
    expect(summary.steps).toBe(6);
    expect(summary.backend).toBe('cpu');
    // cpu updates the weights on the host, so its steps cannot be queued ahead, nor replayed.
    expect(summary.pipelined).toBe(false);
    expect(summary.stepKind).toBe('eager');
    // Embedding (tied head), per block two layer norms, (a, b) and the FFN, final layer norm.
    const block = 2 * 2 * D + 2 * D + (D * FFN + FFN + FFN * D + D);
    expect(summary.params).toBe(VOCAB * D + 2 * block + 2 * D);
    for (const key of ['trainLoss', 'valLoss', 'bestValLoss']) expect(Number.isFinite(summary[key])).toBe(true);
    expect(summary.bestValLoss as number).toBeLessThanOrEqual(summary.valLoss as number);
    for (const file of ['last/config.json', 'best/config.json', 'metrics.jsonl', 'run.json']) expect(existsSync(path.join(cwd, 'run', file))).toBe(true);
  });

  it('refuses to train over an existing run without --overwrite', async () => {
    const argv = ['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', 'run', '--steps', '1', ...TINY];
    expectOneLineError(await runCli(argv, cwd), 1, /already holds a training run\. Continue it with shiftmix resume/);
  });

  it('resumes to a new step count, reading the data from run.json', async () => {
    const result = await runCli(['resume', '--out', 'run', '--steps', '9', '--json'], cwd);
    const resumed = lastJson(result);
    expect(resumed.steps).toBe(9);
    expect(result.stderr.split('\n')[0]).toMatch(/^shiftmix: resuming at step 6: "hsm-ab\*2" \(.* parameters\) on cpu, 4 x 16 = 64 tokens per step, 9 steps$/);
    expect(resumed.params).toBe(summary.params);
    expectOneLineError(await runCli(['resume', '--out', 'run', '--steps', '4'], cwd), 1, /--steps 4 is not past the 9 steps/);
    expectOneLineError(await runCli(['resume', '--out', 'nowhere'], cwd), 1, /--out nowhere: no such directory/);
  });

  it('streams a reproducible continuation of the prompt', async () => {
    const argv = ['generate', '--checkpoint', 'run', '--prompt', 'the ', '--tokens', '25', '--seed', '3', '--backend', 'cpu'];
    const first = await runCli(argv, cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.startsWith('the ')).toBe(true);
    expect(first.stdout).toHaveLength('the '.length + 25 + 1);
    for (const ch of first.stdout.slice(0, -1)) expect(TEXT.includes(ch)).toBe(true);
    expect((await runCli(argv, cwd)).stdout).toBe(first.stdout);
    expectOneLineError(await runCli(['generate', '--checkpoint', 'run', '--prompt', 'QX', '--tokens', '5', '--backend', 'cpu'], cwd), 1, /does not know/);
  });

  it('evaluates a file, with the same loss whatever the batch size', async () => {
    const base = ['eval', '--checkpoint', 'run', '--data', 'other.txt', '--json', '--backend', 'cpu'];
    const one = lastJson(await runCli([...base, '--batch', '1'], cwd));
    const many = lastJson(await runCli([...base, '--batch', '3'], cwd));
    const n = 'the lazy zebra\n'.length * 10;
    expect(one.window).toBe(CTX);
    expect(one.windows).toBe(Math.floor((n - 1) / CTX));
    expect(one.tokens).toBe((one.windows as number) * CTX);
    expect(many.loss as number).toBeCloseTo(one.loss as number, 5);
    expect(one.perplexity as number).toBeCloseTo(Math.exp(one.loss as number), 6);
  });

  it('exports the checkpoint to ONNX', async () => {
    const result = await runCli(['export', '--checkpoint', 'run', '--out', 'onnx', '--opset', '18', '--json'], cwd);
    const files = lastJson(result).files as Record<string, string>;
    for (const file of Object.values(files)) expect(readFileSync(file).length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(path.join(cwd, 'onnx', 'model.json'), 'utf8'))).toBeTruthy();
    expectOneLineError(await runCli(['export', '--checkpoint', 'run', '--out', 'onnx2', '--opset', '3'], cwd), 1, /opset 3/);
  });

  it('rejects a checkpoint whose weights do not match its config', async () => {
    const bad = path.join(cwd, 'bad');
    cpSync(path.join(cwd, 'run', 'last'), bad, { recursive: true });
    const configFile = path.join(bad, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { model: { dim: number } };
    config.model.dim = 2 * D;
    writeFileSync(configFile, JSON.stringify(config));
    expectOneLineError(await runCli(['generate', '--checkpoint', 'bad', '--prompt', 'a', '--tokens', '2', '--backend', 'cpu'], cwd), 1, /checkpoint/);
  });
});

describe('train input errors', () => {
  const cwd = tempDir({ 'data.txt': TEXT, 'short.txt': 'abcdefghij' });
  const train = (extra: string[]): Promise<RunResult> => runCli(['train', '--data', 'data.txt', '--out', 'r', '--steps', '1', ...TINY, ...extra], cwd);

  it('gives one line for each kind of bad input', async () => {
    expectOneLineError(
      await train(['--layers', 'hsm-abb*2']),
      1,
      /unknown mixer "hsm-abb"\. Registered mixers: .*hsm-ab.*\. Load other mixers with --plugin MODULE/,
    );
    expectOneLineError(await train(['--layers', 'hsm-ab**2']), 1, /NAME\*COUNT/);
    expectOneLineError(await train(['--layers', 'hsm-ab,,hsm-ab']), 1, /is empty/);
    expectOneLineError(
      await train(['--layers', 'hsm-ab,softmax-attention', '--dim', '18', '--heads', '4']),
      1,
      /softmax-attention: dim 18 is not divisible by heads 4 \(block 2 of the layer pattern "hsm-ab,softmax-attention"\)\. Use a number of heads that divides 18/,
    );
    expectOneLineError(await train(['--layers', 'hsm-ab', '--ffn', 'wide']), 2, /--ffn must be "match" or a positive integer/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--schedule', 'fast']), 2, /--schedule must be radix, doubling/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--mixer-option', 'window=3']), 2, /name\.key=value/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--mixer-option', 'nope.window=3']), 1, /unknown mixer "nope"/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--backend', 'tpu']), 2, /--backend must be one of/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--lr', 'fast']), 2, /--lr must be a number, got "fast"/);
  });

  it('passes --mixer-option values to the mixer and reports the ones it rejects', async () => {
    const attention = ['--layers', 'softmax-attention', '--out', 'att', '--mixer-option', 'softmax-attention.rope=true'];
    const result = await runCli(['train', '--data', 'data.txt', '--steps', '1', ...TINY, ...attention, '--mixer-option', 'softmax-attention.window=4'], cwd);
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(cwd, 'att', 'last', 'config.json'), 'utf8')) as { model: { mixers: unknown } };
    expect(config.model.mixers).toEqual({ 'softmax-attention': { rope: true, window: 4 } });
    expectOneLineError(await train(['--layers', 'softmax-attention', '--mixer-option', 'softmax-attention.window=-3']), 1, /window/);
  });

  it('takes options for single layers in --layers and stores the pattern with the run', async () => {
    const layers = 'softmax-attention(window=2),softmax-attention';
    const result = await runCli(
      ['train', '--data', 'data.txt', '--steps', '1', ...TINY, '--layers', layers, '--out', 'local', '--mixer-option', 'softmax-attention.window=4'],
      cwd,
    );
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(cwd, 'local', 'last', 'config.json'), 'utf8')) as { model: { layers: string; mixers: unknown } };
    expect(config.model).toMatchObject({ layers, mixers: { 'softmax-attention': { window: 4 } } });
    expectOneLineError(await train(['--layers', 'softmax-attention(window=2']), 1, /never closed/);
    expectOneLineError(await train(['--layers', 'softmax-attention(windw=2)']), 1, /unknown option "windw" \(block 1 of the layer pattern/);
  });

  it('answers deep stacks, sizes past the machine and odd numbers at once, in one line', async () => {
    // 32 radix layers at context 32 once searched contexts one by one and never returned.
    expectOneLineError(
      await train(['--layers', 'hsm-ab*32', '--dim', '32', '--ctx', '32']),
      1,
      /radix schedule over 32 shift-based layers at context 32 gives shifts up to 2147483648.*Use at most 21 shift-based layers at this context .*or --schedule doubling/,
    );
    expectOneLineError(await train(['--layers', 'hsm-ab*5000']), 1, /more than 1024 blocks/);
    expectOneLineError(
      await train(['--layers', 'hsm-ab', '--batch', '1e9']),
      1,
      /a batch of 1,000,000,000 sequences keeps .* GiB of activations.*Use a smaller --batch or --ctx/,
    );
    expectOneLineError(
      await train(['--layers', 'hsm-ab', '--dim', '1000000', '--heads', '1', '--ffn', 'match']),
      1,
      /parameters take .* GiB.*Use a smaller --dim/,
    );
    expectOneLineError(await train(['--layers', 'hsm-ab', '--lr', '0x10']), 2, /--lr must be a number \(write it in decimal\), got "0x10"/);
    expectOneLineError(await train(['--layers', 'hsm-ab', '--steps', '9007199254740993']), 2, /--steps 9007199254740993 is past the largest exact integer/);
    expectOneLineError(await train(['--layers', 'softmax-attention(window=1e400)']), 1, /holds 1e400, a number past the range of a double/);
    expectOneLineError(
      await train(['--layers', 'softmax-attention', '--mixer-option', 'softmax-attention.window=1e400']),
      2,
      /softmax-attention\.window holds 1e400, a number past the range of a double/,
    );
  });

  it("refuses a plugin mixer that reads the future before training, with the kit's message", async () => {
    // No imports: tensors' own methods, so the file loads from any folder.
    writeFileSync(
      path.join(cwd, 'peek.mjs'),
      `export const peekSpec = {
  specificationVersion: 1, name: 'peek', description: 'adds the next token', shiftBased: false,
  defaults: {}, validate: () => ({}), paramCount: () => 0,
  create: () => ({
    weights: {},
    forward: (u) => { const [b, t, d] = u.shape; return u.add(u.pad([[0, 0], [0, 1], [0, 0]]).slice([0, 1, 0], [b, t, d])); },
    initState: () => ({ position: 0, tensors: {} }),
    step: (u, state) => ({ y: u.clone(), state: { position: state.position + 1, tensors: {} } }),
    dispose: () => {},
  }),
};
`,
    );
    const result = await runCli(
      ['train', '--data', 'data.txt', '--out', 'peeked', '--steps', '1', ...TINY, '--layers', 'peek*2', '--plugin', './peek.mjs'],
      cwd,
    );
    expectOneLineError(
      result,
      1,
      /mixer "peek" \(block 1\) fails the conformance kit's causality check: not causal: changing tokens .* describeMixerConformance/,
    );
    expect(existsSync(path.join(cwd, 'peeked'))).toBe(false);
  });

  it('says when the context is longer than the data', async () => {
    const result = await runCli(['train', '--data', 'short.txt', '--layers', 'hsm-ab', '--out', 'r', ...TINY], cwd);
    expectOneLineError(result, 1, /--ctx 16 is longer than the data/);
  });
});

describe('train on webgpu', () => {
  const webgpu = TINY.map((arg) => (arg === 'cpu' ? 'webgpu' : arg));

  it('queues each step behind the last, and says so; --tune keeps kernel choices that resume reuses', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    const layers = 'hsm-ab,softmax-attention';
    const result = await runCli(['train', '--data', 'data.txt', '--layers', layers, '--out', 'run', '--steps', '4', '--tune', ...webgpu], cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/trained step 4 on webgpu .*, compiled steps, pipelined in /);
    expect(result.stderr).toMatch(/matmul tiles tuned at \d+\^3 \((gpu|wall) clock\): fastest \d+x\d+x\d+/);
    // The model's attention: heads of 16 / 2 = 8 channels over the context of 16.
    expect(result.stderr).toMatch(/attention blocks tuned at T 16, hd 8: forward \d+x\d+, dK\/dV \d+x\d+, dQ \d+x\d+/);
    const tuning = JSON.parse(readFileSync(path.join(cwd, 'run', 'kernel-tuning.json'), 'utf8'));
    expect(tuning.matmul.timings.length).toBeGreaterThan(1);
    expect(tuning.attention).toMatchObject({ headDim: 8, length: 16, heads: 8 });
    const resumed = await runCli(['resume', '--out', 'run', '--steps', '6', '--json', '--backend', 'webgpu'], cwd);
    expect(resumed.stderr).toMatch(/kernel choices from kernel-tuning.json/);
    expect(lastJson(resumed)).toMatchObject({ steps: 6, backend: 'webgpu', pipelined: true });
    // A tuning from another GPU is set aside with a warning; the run goes on.
    writeFileSync(path.join(cwd, 'run', 'kernel-tuning.json'), JSON.stringify({ ...tuning, matmul: { ...tuning.matmul, adapter: 'another GPU' } }));
    const elsewhere = await runCli(['resume', '--out', 'run', '--steps', '7', '--backend', 'webgpu'], cwd);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(elsewhere.stderr).toMatch(/warning: kernel-tuning.json not used \(the matmul tuning was measured on "another GPU".*pass --tune to tune again/);
  });

  it('refuses --tune off webgpu before training', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    const result = await runCli(['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', 'run', '--steps', '2', '--tune', ...TINY], cwd);
    expectOneLineError(result, 1, /--tune tunes the webgpu kernels, but this run is on cpu/);
    expect(existsSync(path.join(cwd, 'run', 'last'))).toBe(false);
  });
});
