import { readFileSync, writeFileSync } from 'node:fs';
import { evaluateTargets, formatTargets, type KernelsReport, type StepsReport } from './targets.js';

const USAGE = `The GPU throughput targets from the reports of the GPU benchmarks.

  node apps/bench/dist/gpu/targets-main.js KERNELS.json STEPS.json [--md out.md]

KERNELS.json: attention-matmul-main.js --out; STEPS.json: train-step.js --json.
Prints one Markdown row per target: goal, measured, met or missed.`;

function readReport<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`cannot read the ${what} report ${path}; run the benchmark that writes it first`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`the ${what} report ${path} is not JSON (${(error as Error).message}); run the benchmark again`);
  }
}

function main(args: string[]): void {
  if (args.includes('--help') || args.length < 2) {
    console.log(USAGE);
    if (!args.includes('--help')) process.exitCode = 2;
    return;
  }
  const kernels = readReport<KernelsReport>(args[0], 'kernel');
  const steps = readReport<StepsReport>(args[1], 'training-step');
  const table = formatTargets(evaluateTargets(kernels, steps), kernels, steps);
  console.log(table);
  const md = args.indexOf('--md');
  if (md >= 0 && args[md + 1]) writeFileSync(args[md + 1], `${table}\n`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`targets: ${(error as Error).message}`);
  process.exitCode = 1;
}
