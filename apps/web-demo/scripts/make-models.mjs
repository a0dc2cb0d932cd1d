#!/usr/bin/env node
// Trains the demo's character models on Tiny Shakespeare with the shiftmix CLI, with
// nanoGPT's CPU recipe (the cpu preset of lm-char in benchmarks/suites/default.json:
// 4 layers, D 128, 4 heads, context 64, batch 12, lr 1e-3) for 3000 steps (the preset's
// 2000 left the GPT at 1.9003, and every bundled model is to read at 1.90 or better), exports them to
// ONNX and puts them under public/models/, with public/models/index.json listing them for
// the page: each model's recipe and validation losses, read from the run's checkpoint and
// metrics.
//
//   node scripts/make-models.mjs [--steps N] [--only hsm|learned|gpt] [--force] [--missing] [--bench]
//
// A model already there is kept when index.json says it was made with the same recipe,
// and made again otherwise (--force: always). --missing keeps every model index.json
// lists, whatever its recipe: the end-to-end test makes short ones (--steps) only where
// there are none. --steps N trains N steps instead of 3000.
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
const suiteFile = join(repo, 'benchmarks/suites/default.json');
const work = join(app, '.models-work');
const out = join(app, 'public/models');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

// `model` names the suite's lm-char model whose layers (at the cpu preset) each one takes.
const MODELS = [
  { id: 'hsm', family: 'HSM', model: 'hsm-ab' },
  { id: 'learned', family: 'Learned fusion', model: 'learned-fusion' },
  { id: 'gpt', family: 'GPT', model: 'gpt' },
];
const PRESET = 'cpu';
/** Steps the bundled models train: more than the preset's 2000, the same for all three. */
const BUNDLED_STEPS = 3000;
// How the page names the recipe (a model cut short with --steps says so).
const RECIPE_SOURCE = `nanoGPT's CPU recipe (lm-char's ${PRESET} preset)`;

function fail(message) {
  console.error(`make-models: ${message}`);
  process.exit(1);
}

/** The suite's lm-char benchmark at the cpu preset: the recipe, and each model's layers and FFN. */
function suiteRecipe() {
  const suite = JSON.parse(readFileSync(suiteFile, 'utf8'));
  const bench = suite.benchmarks.find((b) => b.name === 'lm-char');
  const preset = bench?.presets?.[PRESET];
  if (!preset) fail(`${suiteFile} has no lm-char benchmark with a "${PRESET}" preset: restore the file from git`);
  // The CLI has no flags for AdamW's betas: its recipe's own (0.9, 0.99) must be the preset's.
  if ((preset.beta1 ?? 0.9) !== 0.9 || (preset.beta2 ?? 0.99) !== 0.99) {
    fail(`the ${PRESET} preset's betas (${preset.beta1}, ${preset.beta2}) are not the CLI's (0.9, 0.99): add the flags to shiftmix train first`);
  }
  const models = Object.fromEntries(
    Object.entries(bench.models).map(([name, m]) => [name, { layers: preset.layers?.[name] ?? m.layers, ffn: m.ffn ?? 'match' }]),
  );
  return { preset: { ...preset, seed: preset.seed ?? suite.seed }, models };
}

function shiftmix(argv) {
  return execFileSync(process.execPath, [cli, ...argv], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

/** The CLI's flags for the preset, `steps` (and the warm-up, at most a twentieth of it) replaced. */
function recipeFlags(p, steps) {
  const flags = {
    '--dim': p.dim,
    '--heads': p.heads,
    '--ctx': p.contextLength,
    '--batch': p.batch,
    '--steps': steps,
    '--lr': p.lr,
    '--min-lr': p.minLr,
    '--warmup': Math.min(p.warmup, Math.max(1, Math.floor(steps / 20))),
    '--dropout': p.dropout,
    '--weight-decay': p.weightDecay,
    '--clip': p.clip,
    '--eval-every': Math.min(p.evalEvery, steps),
    '--eval-batches': p.evalBatches,
    '--seed': p.seed,
  };
  return Object.entries(flags).flatMap(([k, v]) => [k, String(v)]);
}

function train(id, layers, ffn, flags) {
  const run = join(work, id);
  const argv = ['train', '--data', data, '--layers', layers, '--ffn', String(ffn), '--out', run, ...flags, '--backend', 'wasm', '--overwrite', '--json'];
  console.error(`make-models: training ${id} (${layers}; ${flags.join(' ')})`);
  const lines = shiftmix(argv).trim().split('\n');
  return { run, summary: JSON.parse(lines[lines.length - 1]) };
}

function exportTo(run, id) {
  const dir = join(out, id);
  rmSync(dir, { recursive: true, force: true });
  shiftmix(['export', '--checkpoint', run, '--out', dir, '--opset', '17']);
  return dir;
}

/** What index.json says of a model: all read from the run (its best/ checkpoint, metrics and summary). */
function describe(m, run, summary) {
  const config = JSON.parse(readFileSync(join(run, 'best', 'config.json'), 'utf8'));
  const state = JSON.parse(readFileSync(join(run, 'best', 'state.json'), 'utf8'));
  const evals = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((r) => typeof r.valLoss === 'number');
  const final = evals[evals.length - 1];
  if (!final) fail(`the ${m.id} run logged no validation loss (${join(run, 'metrics.jsonl')})`);
  const { model, recipe } = config;
  return {
    id: m.id,
    label: `${m.family}: ${model.layers} · val loss ${final.valLoss.toFixed(3)}`,
    path: `${m.id}/`,
    layers: model.layers,
    params: config.params,
    recipe: {
      source: recipe.steps >= BUNDLED_STEPS ? `${RECIPE_SOURCE}, ${recipe.steps} steps` : `${RECIPE_SOURCE}, cut to ${recipe.steps} steps`,
      dim: model.dim,
      heads: model.heads,
      contextLength: model.contextLength,
      ffn: model.ffn,
      dropout: model.dropout,
      steps: recipe.steps,
      batch: recipe.batch,
      lr: recipe.lr,
      minLr: recipe.minLr,
      warmup: recipe.warmup,
      weightDecay: recipe.weightDecay,
      beta1: recipe.beta1,
      beta2: recipe.beta2,
      clip: recipe.clip,
      evalBatches: recipe.evalBatches,
      seed: recipe.seed,
    },
    // The loss of the last evaluation, and of the exported checkpoint (best/: the lowest).
    valLoss: final.valLoss,
    valStep: final.step,
    exportedValLoss: state.bestValLoss,
    exportedStep: state.step,
    trainSeconds: Math.round(summary.seconds),
  };
}

const sameRecipe = (a, b) => JSON.stringify(a) === JSON.stringify(b);

if (!existsSync(data)) fail(`the training text ${data} is missing`);
const { preset, models: suiteModels } = suiteRecipe();
const steps = Number(value('--steps', String(BUNDLED_STEPS)));
if (!Number.isInteger(steps) || steps < 1) fail(`--steps ${value('--steps')} is not a positive integer. Give e.g. --steps 100`);
const only = value('--only', null);
if (only && !MODELS.some((m) => m.id === only)) fail(`--only ${only} is not a bundled model. Use one of ${MODELS.map((m) => m.id).join(', ')}`);
const requireCli = () => existsSync(cli) || fail(`the shiftmix CLI is not built (${cli} is missing): run "npm run build" in the repository root first`);

mkdirSync(out, { recursive: true });
const indexPath = join(out, 'index.json');
const index = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : { models: [] };
const order = (e) => MODELS.findIndex((m) => m.id === e.id);

for (const m of MODELS) {
  if (only && only !== m.id) continue;
  const { layers, ffn } = suiteModels[m.model] ?? fail(`the suite's lm-char benchmark has no model "${m.model}"`);
  const flags = recipeFlags(preset, steps);
  const known = index.models.find((e) => e.id === m.id);
  if (!flag('--force') && known?.recipe && existsSync(join(out, m.id, 'decode.onnx'))) {
    const wanted = { layers, steps, batch: preset.batch, dim: preset.dim, heads: preset.heads, contextLength: preset.contextLength, lr: preset.lr };
    const had = {
      layers: known.layers,
      steps: known.recipe.steps,
      batch: known.recipe.batch,
      dim: known.recipe.dim,
      heads: known.recipe.heads,
      contextLength: known.recipe.contextLength,
      lr: known.recipe.lr,
    };
    if (flag('--missing') || sameRecipe(wanted, had)) {
      console.error(`make-models: ${m.id} exists (${known.recipe.steps} steps, val loss ${known.valLoss.toFixed(3)}; --force makes it again)`);
      continue;
    }
    console.error(`make-models: ${m.id} was made with another recipe (${known.recipe.steps} steps): making it again`);
  }
  requireCli();
  const { run, summary } = train(m.id, layers, ffn, flags);
  exportTo(run, m.id);
  const entry = describe(m, run, summary);
  console.error(
    `make-models: ${m.id}: val loss ${entry.valLoss.toFixed(4)} at step ${entry.valStep} (exported: step ${entry.exportedStep}, ${entry.exportedValLoss.toFixed(4)}) in ${entry.trainSeconds} s`,
  );
  index.models = [...index.models.filter((e) => e.id !== m.id), entry].sort((a, b) => order(a) - order(b));
  writeFileSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
}

if (flag('--bench')) {
  for (const id of ['hsm', 'gpt']) {
    const name = `bench-${id}`;
    if (!flag('--force') && existsSync(join(out, name, 'decode.onnx'))) continue;
    requireCli();
    const { layers, ffn } = suiteModels[MODELS.find((m) => m.id === id).model];
    const flags = recipeFlags({ ...preset, contextLength: 512, evalBatches: 1 }, 1);
    const { run } = train(name, layers, ffn, flags);
    exportTo(run, name);
  }
}
console.error(`make-models: models are in ${out}`);
