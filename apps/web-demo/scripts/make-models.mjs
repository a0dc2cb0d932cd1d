#!/usr/bin/env node
// Trains the demo's two small character models on Tiny Shakespeare with the shiftmix
// CLI (an HSM stack and a GPT stack of the same size), exports them to ONNX and puts
// them under public/models/, with public/models/index.json listing them for the page.
//
//   node scripts/make-models.mjs [--steps N] [--only hsm|gpt] [--force] [--bench]
//
// --bench also exports untrained models with a context of 512 (bench-hsm, bench-gpt)
// for scripts/bench-decode.mjs: decode speed does not depend on the weights' values.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(app, '../..');
const cli = join(repo, 'packages/cli/dist/bin.js');
const data = join(repo, 'benchmarks/data/tinyshakespeare.txt');
const work = join(app, '.models-work');
const out = join(app, 'public/models');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const steps = Number(value('--steps', '200'));

const MODELS = [
  { id: 'hsm', family: 'HSM', layers: 'hsm-ab*4' },
  { id: 'gpt', family: 'GPT', layers: 'softmax-attention*4' },
];
const SIZE = { dim: 64, heads: 4, ctx: 64, batch: 16 };

function fail(message) {
  console.error(`make-models: ${message}`);
  process.exit(1);
}

function shiftmix(argv) {
  return execFileSync(process.execPath, [cli, ...argv], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

function train(id, layers, { ctx, steps: n, lr }) {
  const run = join(work, id);
  const argv = ['train', '--data', data, '--layers', layers, '--out', run, '--dim', String(SIZE.dim), '--heads', String(SIZE.heads)];
  argv.push('--ctx', String(ctx), '--batch', String(SIZE.batch), '--steps', String(n), '--lr', String(lr), '--min-lr', String(lr / 10));
  argv.push('--warmup', String(Math.min(20, n)), '--eval-every', String(Math.max(1, Math.min(100, n))), '--eval-batches', '4');
  argv.push('--backend', 'wasm', '--overwrite', '--json');
  console.error(`make-models: training ${id} (${layers}, D ${SIZE.dim}, ctx ${ctx}, ${n} steps)`);
  const lines = shiftmix(argv).trim().split('\n');
  return { run, result: JSON.parse(lines[lines.length - 1]) };
}

function exportTo(run, id) {
  const dir = join(out, id);
  rmSync(dir, { recursive: true, force: true });
  shiftmix(['export', '--checkpoint', run, '--out', dir, '--opset', '17']);
  return dir;
}

if (!existsSync(cli)) fail(`the shiftmix CLI is not built (${cli} is missing): run "npm run build" in the repository root first`);
if (!existsSync(data)) fail(`the training text ${data} is missing`);
mkdirSync(out, { recursive: true });
const indexPath = join(out, 'index.json');
const index = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : { models: [] };
const only = value('--only', null);

for (const m of MODELS) {
  if (only && only !== m.id) continue;
  if (!flag('--force') && existsSync(join(out, m.id, 'decode.onnx'))) {
    console.error(`make-models: ${m.id} exists (use --force to make it again)`);
    continue;
  }
  const { run, result } = train(m.id, m.layers, { ctx: SIZE.ctx, steps, lr: 3e-3 });
  exportTo(run, m.id);
  const loss = typeof result.bestValLoss === 'number' ? `, val loss ${result.bestValLoss.toFixed(2)}` : '';
  const entry = { id: m.id, label: `${m.family}: ${m.layers}, D ${SIZE.dim}, ctx ${SIZE.ctx}, ${result.steps} steps${loss}`, path: `${m.id}/` };
  index.models = [...index.models.filter((e) => e.id !== m.id), entry].sort((a, b) => a.id.localeCompare(b.id));
  writeFileSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
}

if (flag('--bench')) {
  for (const m of MODELS) {
    const id = `bench-${m.id}`;
    if (!flag('--force') && existsSync(join(out, id, 'decode.onnx'))) continue;
    const { run } = train(id, m.layers, { ctx: 512, steps: 1, lr: 1e-3 });
    exportTo(run, id);
  }
}
console.error(`make-models: models are in ${out}`);
