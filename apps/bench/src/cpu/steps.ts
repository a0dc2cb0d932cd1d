import { readFileSync } from 'node:fs';
import { selectBackend, type BackendName } from '@shiftmix/core';
import { parseEntryFlags } from '../steps/flags.js';
import { TrainStepRunner, timeTrainSteps } from '../steps/runner.js';
import { CPU_MODELS, CPU_RECIPE } from './recipe.js';

const USAGE = `Times training steps of one model at nanoGPT's CPU recipe and prints one JSON line.

  node apps/bench/dist/cpu/steps.js --model gpt [--steps 40] [--warmup 5] [--backend wasm] [--workers 1]
      [--step planned|eager] [--data benchmarks/data/tinyshakespeare.txt]

Models: ${Object.keys(CPU_MODELS).join(', ')}. cpu-vs-torch.js runs this beside a PyTorch anchor.`;

const values = parseEntryFlags(
  {
    model: { type: 'string', default: 'gpt' },
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    workers: { type: 'string', default: '1' },
    step: { type: 'string', default: 'planned' },
    data: { type: 'string', default: 'benchmarks/data/tinyshakespeare.txt' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);

async function main(): Promise<void> {
  if (values.help) return console.log(USAGE);
  const model = CPU_MODELS[values.model];
  if (!model) throw new Error(`unknown model "${values.model}"; choose from ${Object.keys(CPU_MODELS).join(', ')}`);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(warmup) || warmup < 0)
    throw new Error('--steps needs a whole number >= 1 and --warmup one >= 0');
  if (values.step !== 'planned' && values.step !== 'eager') throw new Error(`--step ${values.step}: choose planned or eager`);
  const info = await selectBackend(values.backend as BackendName);
  const r = CPU_RECIPE;
  const runner = await TrainStepRunner.create({
    layers: model.layers,
    text: readFileSync(values.data, 'utf8'),
    dim: r.dim,
    heads: r.heads,
    contextLength: r.contextLength,
    batch: r.batch,
    dropout: r.dropout,
    workers: Number(values.workers),
    plan: values.step === 'planned',
  });
  const params = runner.model.paramCount();
  const timing = await timeTrainSteps(runner, warmup, steps);
  const stepKind = runner.planStatus.last;
  await runner.dispose();
  const { losses, ...rest } = timing;
  console.log(
    JSON.stringify({
      model: values.model,
      layers: model.layers,
      params,
      backend: info.backend,
      kernels: info.kernels,
      workers: Number(values.workers),
      stepKind,
      ...rest,
      lastLoss: losses[losses.length - 1],
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
});
