import type { AttentionResult } from './attention-bench.js';
import type { MatMulResult } from './matmul-bench.js';

/** What attention-matmul-main.js writes (the fields the targets read). */
export interface KernelsReport {
  adapter?: { name?: string; software?: boolean };
  robustness?: boolean;
  matmul?: MatMulResult[];
  attention?: AttentionResult[];
}

/** What train-step.js --json writes (the fields the targets read). */
export interface StepsReport {
  backend?: string;
  results?: { model: string; medianMs: number; tokensPerSecond: number; pytorchMs?: number }[];
}

export interface TargetRow {
  target: string;
  goal: string;
  measured: string;
  /** undefined: not measured in these reports. */
  met: boolean | undefined;
}

/** The GPU throughput targets: matmul at 4096, attention at T 2048, whole training steps. */
export const TARGETS = {
  matmulTflops: 30,
  matmulSize: 4096,
  attentionSpeedup: 5,
  attentionLength: 2048,
  /** Training throughput as a fraction of PyTorch fp32 eager: first 0.5, then 1. */
  stepRatios: [0.5, 1],
  stepModels: ['gpt', 'hsm-ab'],
};

const fmt = (x: number, digits = 3) => x.toPrecision(digits);

function matmulRow(kernels: KernelsReport | undefined): TargetRow {
  const label = `${TARGETS.matmulSize}^3`;
  const target = `fp32 matmul ${label}`;
  const goal = `>= ${TARGETS.matmulTflops} TFLOP/s`;
  const ours = kernels?.matmul?.find((r) => r.label === label && r.impl === 'shiftmix');
  if (!ours) return { target, goal, measured: 'not measured', met: undefined };
  const tfjs = kernels?.matmul?.find((r) => r.label === label && r.impl === 'tfjs');
  const beside = tfjs ? ` (tfjs-webgpu ${fmt(tfjs.tflops)} in the same run)` : '';
  return { target, goal, measured: `${fmt(ours.tflops)} TFLOP/s${beside}`, met: ours.tflops >= TARGETS.matmulTflops };
}

function attentionRow(kernels: KernelsReport | undefined): TargetRow {
  const target = `attention fwd+bwd, T ${TARGETS.attentionLength}`;
  const goal = `>= ${TARGETS.attentionSpeedup}x the composite path`;
  const row = kernels?.attention?.find((r) => r.length === TARGETS.attentionLength);
  if (!row || row.compositeStepMs === undefined) return { target, goal, measured: 'not measured', met: undefined };
  // GPU time when both sides have it (what the kernels control), else wall clock.
  const gpu = row.compositeStepGpuMs && row.fusedStepGpuMs ? row.compositeStepGpuMs / row.fusedStepGpuMs : undefined;
  const wall = row.compositeStepMs / row.fusedStepMs;
  const ratio = gpu ?? wall;
  const measured = `${fmt(ratio)}x by ${gpu === undefined ? 'wall clock' : `GPU time (${fmt(wall)}x wall)`}`;
  return { target, goal, measured, met: ratio >= TARGETS.attentionSpeedup };
}

function stepRows(steps: StepsReport | undefined): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const model of TARGETS.stepModels) {
    const result = steps?.results?.find((r) => r.model === model);
    for (const ratio of TARGETS.stepRatios) {
      const target = `${model} lm-char standard step`;
      const goal = `>= ${ratio}x PyTorch fp32 eager throughput`;
      if (!result || result.pytorchMs === undefined) {
        rows.push({ target, goal, measured: result ? 'not the standard shape' : 'not measured', met: undefined });
        continue;
      }
      const achieved = result.pytorchMs / result.medianMs;
      const measured = `${fmt(achieved)}x (${fmt(result.medianMs)} ms/step vs ${result.pytorchMs}, ${fmt(result.tokensPerSecond / 1e3)}k tok/s)`;
      rows.push({ target, goal, measured, met: achieved >= ratio });
    }
  }
  return rows;
}

/** One row per target, from whichever reports are given. */
export function evaluateTargets(kernels?: KernelsReport, steps?: StepsReport): TargetRow[] {
  return [matmulRow(kernels), attentionRow(kernels), ...stepRows(steps)];
}

/** The rows as a Markdown table, with the adapter they were measured on. */
export function formatTargets(rows: TargetRow[], kernels?: KernelsReport, steps?: StepsReport): string {
  const adapter = kernels?.adapter?.name ?? steps?.backend ?? 'unknown adapter';
  const software = kernels?.adapter?.software ? ' (software adapter: not a GPU measurement)' : '';
  const robustness = kernels?.robustness === false ? ', robustness off' : '';
  const status = (met: boolean | undefined) => (met === undefined ? '-' : met ? 'met' : 'missed');
  return [
    `Targets on ${adapter}${robustness}${software}`,
    '',
    '| target | goal | measured | status |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.target} | ${r.goal} | ${r.measured} | ${status(r.met)} |`),
  ].join('\n');
}
