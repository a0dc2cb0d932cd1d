import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseEntryFlags, writeJsonReport } from '../steps/flags.js';
import { median } from '../steps/runner.js';
import { CPU_MODELS, anchorArgs } from './recipe.js';

const USAGE = `shiftmix against a PyTorch anchor on nanoGPT's CPU recipe, side by side on this machine.

  node apps/bench/dist/cpu/vs-torch.js [--models gpt,hsm-ab] [--workers 1,2] [--step planned,eager] [--steps 40]
      [--rounds 3] [--anchor torch_ref.py] [--python python3] [--backend wasm] [--json runs/cpu/vs-torch.json]

Each round times every model in a fresh shiftmix process for each --workers count and --step kind
(planned: the step recorded once and replayed, as training runs; eager: tfjs op by op) (cpu/steps.js:
median ms per step after --warmup steps), then, with --anchor, the same model in PyTorch (a script with
torch_ref.py's flags, timing all but its first 20 steps). Rounds alternate the two, so a
machine that slows down slows both. Prints the medians over rounds and PyTorch's ms/step
over ours: the share of PyTorch's speed shiftmix reaches (1 = as fast).`;

const values = parseEntryFlags(
  {
    models: { type: 'string', default: 'gpt,hsm-ab' },
    workers: { type: 'string', default: '1' },
    step: { type: 'string', default: 'planned' },
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    anchor: { type: 'string' },
    python: { type: 'string', default: 'python3' },
    backend: { type: 'string', default: 'wasm' },
    data: { type: 'string', default: 'benchmarks/data/tinyshakespeare.txt' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);

const lastJsonLine = (out: string): Record<string, unknown> =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '{}',
  );

function runShiftmix(model: string, steps: number, warmup: number, workers: number, step: string): Record<string, unknown> {
  const script = fileURLToPath(new URL('./steps.js', import.meta.url));
  const args = [
    script,
    '--model',
    model,
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--backend',
    values.backend,
    '--data',
    values.data,
    '--workers',
    String(workers),
    '--step',
    step,
  ];
  return lastJsonLine(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function runAnchor(model: string, steps: number): Record<string, unknown> {
  const args = anchorArgs(values.anchor!, CPU_MODELS[model], steps + 20, values.data);
  return lastJsonLine(execFileSync(values.python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function anchorProblem(): string | undefined {
  if (!values.anchor) return 'no --anchor given';
  if (!existsSync(values.anchor)) return `--anchor ${values.anchor} does not exist`;
  try {
    execFileSync(values.python, ['-c', 'import torch'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${values.python} cannot import torch`;
  }
}

function main(): void {
  if (values.help) return console.log(USAGE);
  const models = values.models.split(',').filter(Boolean);
  for (const m of models) if (!CPU_MODELS[m]) throw new Error(`unknown model "${m}"; choose from ${Object.keys(CPU_MODELS).join(', ')}`);
  const [steps, warmup, rounds] = [values.steps, values.warmup, values.rounds].map(Number);
  const workerCounts = values.workers.split(',').map(Number);
  const kinds = values.step.split(',').filter(Boolean);
  for (const k of kinds) if (k !== 'planned' && k !== 'eager') throw new Error(`--step ${k}: choose planned, eager or both (planned,eager)`);
  // One timed variant per worker count and step kind, e.g. "x2 eager".
  const variants = workerCounts.flatMap((w) => kinds.map((k) => ({ w, k, key: `x${w} ${k}` })));
  if (workerCounts.some((w) => !(Number.isInteger(w) && w >= 1))) throw new Error(`--workers ${values.workers} is not a list of whole numbers >= 1`);
  const problem = anchorProblem();
  if (problem) console.log(`PyTorch anchor skipped: ${problem}`);
  // Keyed by model and worker count, e.g. "gpt x2".
  const ours: Record<string, number[]> = {};
  const theirs: Record<string, number[]> = {};
  let info: Record<string, unknown> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const m of models) {
      let line = `round ${round}/${rounds} ${m}:`;
      for (const { w, k, key } of variants) {
        const run = runShiftmix(m, steps, warmup, w, k);
        info = { backend: run.backend, kernels: run.kernels };
        (ours[`${m} ${key}`] ??= []).push(Number(run.medianMs));
        line += ` shiftmix ${w} worker${w > 1 ? 's' : ''} ${k} ${Number(run.medianMs).toFixed(1)} ms/step,`;
      }
      if (!problem) {
        const anchor = runAnchor(m, steps);
        (theirs[m] ??= []).push(Number(anchor.ms_per_iter));
        line += ` PyTorch ${Number(anchor.ms_per_iter).toFixed(1)} ms/step`;
      }
      console.log(line);
    }
  }
  const rows = models.flatMap((m) =>
    variants.map(({ w, k, key }) => {
      const a = median(ours[`${m} ${key}`]);
      const b = theirs[m] ? median(theirs[m]) : undefined;
      return {
        model: m,
        workers: w,
        step: k,
        shiftmixMs: a,
        pytorchMs: b,
        shareOfPytorch: b === undefined ? undefined : b / a,
        shiftmixRuns: ours[`${m} ${key}`],
        pytorchRuns: theirs[m],
      };
    }),
  );
  console.log(`\n${info.backend} (${info.kernels}), ${cpus().length} cores, ${cpus()[0]?.model}; medians of ${rounds} rounds of ${steps} steps`);
  console.log('model              workers  step     shiftmix ms  PyTorch ms  share of PyTorch speed');
  for (const r of rows) {
    const share = r.shareOfPytorch === undefined ? '-' : `${r.shareOfPytorch.toFixed(3)}x`;
    console.log(
      `${r.model.padEnd(18)} ${String(r.workers).padStart(7)}  ${r.step.padEnd(7)}  ${r.shiftmixMs.toFixed(1).padStart(11)}  ${(r.pytorchMs?.toFixed(1) ?? '-').padStart(10)}  ${share}`,
    );
  }
  if (values.json)
    writeJsonReport(values.json, {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      ...info,
      steps,
      rounds,
      rows,
    });
}

try {
  main();
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
}
