import { readFileSync } from 'node:fs';
import { selectBackend, ShiftmixModel, tf } from '@shiftmix/core';
import {
  activateWebGpu,
  attentionProblem,
  formatProfile,
  releasePooledBuffers,
  tuneModelKernels,
  webGpuDevice,
  webGpuErrors,
  type DawnBackend,
  type ModelKernelTuning,
} from '@shiftmix/webgpu';
import {
  LM_CHAR_MODELS,
  PYTORCH_H100_MS_PER_STEP,
  TrainStepRunner,
  profileTrainStep,
  registerLmCharMixers,
  settleBackend,
  timeTrainSteps,
  type TrainStepOptions,
} from './train-step-core.js';
import { parseEntryFlags, refuseSoftwareAdapter, runGpuEntry, writeJsonReport } from './entry.js';
import { printAttentionTuning } from './attention-bench.js';
import { printMatMulTuning } from './matmul-bench.js';

const USAGE = `Whole training steps of the lm-char models on WebGPU (Dawn in Node), as core's trainer runs them.

  node apps/bench/dist/gpu/train-step.js [--models gpt,hsm-ab,hybrid,hsm-ab-last-attn] [--steps 20]
      [--warmup 5] [--batch 64] [--ctx 256] [--dim 384] [--heads 6] [--dropout 0.2]
      [--data benchmarks/data/tinyshakespeare.txt]
      [--profile] [--top 15] [--backend webgpu|cpu|wasm] [--dawn auto|vulkan|opengles|null] [--disable-robustness] [--pipeline] [--tune] [--json file]
      [--step planned,eager]

Standard lm-char recipe (6 layers, 6 heads, D 384, dropout 0.2, AdamW (0.9, 0.99), wd 0.1,
clip 1.0) on real Tiny Shakespeare batches. Median ms per step (loss readback to loss
readback), tokens/s, and the ratio to PyTorch fp32 eager on one H100 where known.
--dawn null runs on Dawn's null device (no GPU work, losses meaningless): ms/step is then the
host's cost alone, kernel launches and tfjs bookkeeping, measurable on any machine.
--disable-robustness turns off Dawn's bounds clamps (faster kernels, no out-of-range safety).
--pipeline enqueues each step before the previous step's loss is read back (webgpu only), so
the host records one step while the GPU runs the last.
--tune times the matmul's tiles and, for models with attention, the attention kernels' blocks at this
shape on this adapter first (tuneMatMulTiles, tuneAttentionTiles) and uses the fastest.
--profile adds profileStep's top kernels of one step per model.
--step times the planned step (replayed, the default in training), the eager step, or both
(the default), one after the other for each model.`;

const values = parseEntryFlags(
  {
    models: { type: 'string', default: Object.keys(LM_CHAR_MODELS).join(',') },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    batch: { type: 'string', default: '64' },
    ctx: { type: 'string', default: '256' },
    dim: { type: 'string', default: '384' },
    heads: { type: 'string', default: '6' },
    dropout: { type: 'string', default: '0.2' },
    data: { type: 'string', default: 'benchmarks/data/tinyshakespeare.txt' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '15' },
    backend: { type: 'string', default: 'webgpu' },
    dawn: { type: 'string', default: 'auto' },
    'disable-robustness': { type: 'boolean', default: false },
    pipeline: { type: 'boolean', default: false },
    tune: { type: 'boolean', default: false },
    json: { type: 'string' },
    step: { type: 'string', default: 'planned,eager' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);

function positive(name: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${text} is not a whole number >= ${min}`);
  return n;
}

async function startBackend(): Promise<{ adapter: string; nullDevice: boolean }> {
  if (values.backend !== 'webgpu') {
    const info = await selectBackend(values.backend as 'cpu' | 'wasm');
    return { adapter: info.backend, nullDevice: false };
  }
  // Dawn rounds timestamps unless told otherwise; the profile's kernel times need them exact.
  const info = await activateWebGpu({
    backend: values.dawn as 'auto' | DawnBackend,
    dawnOptions: ['disable-dawn-features=timestamp_quantization'],
    robustness: !values['disable-robustness'],
  });
  refuseSoftwareAdapter(info.report, values.dawn, '--dawn');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const robustness = values['disable-robustness'] ? ', robustness off' : '';
  const adapter = `${info.report.name} (${info.report.backend}, ${info.report.featureLevel}${info.software ? ', software' : ''}${robustness})`;
  return { adapter, nullDevice: info.report.backend === 'null' };
}

const fmt = (x: number, digits = 3) => x.toPrecision(digits);

/** The kernels tuned for the first of `names` with attention (else the first), at this shape. */
async function tuneKernels(names: string[], shape: { batch: number; ctx: number; dim: number; heads: number }): Promise<ModelKernelTuning> {
  registerLmCharMixers();
  // Built only for what tuning reads of them: their shape and their blocks' kernels.
  const models = names.map((name) =>
    ShiftmixModel.create({ vocabSize: 65, layers: LM_CHAR_MODELS[name], dim: shape.dim, heads: shape.heads, contextLength: shape.ctx }),
  );
  try {
    const tuning = await tuneModelKernels(models.find((m) => attentionProblem(m, shape.batch)) ?? models[0], shape.batch);
    printMatMulTuning(tuning.matmul);
    if (tuning.attention) printAttentionTuning(tuning.attention);
    return tuning;
  } finally {
    for (const m of models) m.dispose();
  }
}

type StepMode = 'planned' | 'eager';

const COUNTED = { createBuffer: 'buffers', createBindGroup: 'bind groups', createComputePipeline: 'pipelines', createShaderModule: 'shaders' } as const;

/**
 * Counts the GPU objects the device creates between the two calls of `mark` (then, after
 * the warm-up and after the timed steps), and drains the queue at each as the timing needs.
 */
function countGpuObjects() {
  const device = webGpuDevice();
  const counts: Record<string, number> = {};
  const marks: Record<string, number>[] = [];
  const originals = Object.keys(COUNTED).map((name) => {
    const original = device ? (device[name as keyof typeof COUNTED] as (...args: unknown[]) => unknown).bind(device) : undefined;
    if (device && original) {
      (device as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        counts[name] = (counts[name] ?? 0) + 1;
        return original(...args);
      };
    }
    return [name, original] as const;
  });
  return {
    mark: async () => {
      await settleBackend();
      marks.push({ ...counts });
    },
    restore: () => {
      for (const [name, original] of originals) if (device && original) (device as unknown as Record<string, unknown>)[name] = original;
    },
    perStep: (steps: number): Record<string, number> | undefined => {
      if (!device || marks.length < 2) return undefined;
      const [a, b] = marks;
      return Object.fromEntries(Object.entries(COUNTED).map(([name, label]) => [label, ((b[name] ?? 0) - (a[name] ?? 0)) / steps]));
    },
  };
}

interface Shape {
  text: string;
  batch: number;
  ctx: number;
  dim: number;
  heads: number;
  dropout: number;
  warmup: number;
  steps: number;
  top: number;
  /** Whether PyTorch's time on the same GPU and shape is known to compare with. */
  ratio: boolean;
}

/** Times one model's planned or eager steps and prints a line; a step that raised a device error gives `error`. */
async function timeModel(name: string, mode: StepMode, shape: Shape): Promise<Record<string, unknown>> {
  const { text, batch, ctx, dim, heads, dropout, warmup, steps, top } = shape;
  const label = `${name} (${LM_CHAR_MODELS[name]}), ${mode} step`;
  const notes: string[] = [];
  const options: TrainStepOptions = {
    layers: LM_CHAR_MODELS[name],
    text,
    batch,
    contextLength: ctx,
    dim,
    heads,
    dropout,
    plan: mode === 'planned',
    onNote: (m) => notes.push(m),
  };
  const runner = new TrainStepRunner(options);
  const params = runner.model.paramCount();
  const memoryBefore = tf.memory().numBytes;
  const errorsBefore = webGpuErrors().length;
  let timing;
  let planned: boolean;
  const objects = countGpuObjects();
  try {
    // settle() runs after the warm-up and after the timed steps: the count spans the timed ones.
    timing = await timeTrainSteps(runner, warmup, steps, { pipeline: values.pipeline, settle: objects.mark });
    planned = runner.planStatus.planned.length > 0;
  } finally {
    objects.restore();
    await runner.dispose();
    // The pool keeps every buffer it made; the next model starts with device memory free.
    if (tf.getBackend() === 'webgpu') await releasePooledBuffers();
  }
  // A step that raised a device error may have skipped its work: its time means nothing.
  const errors = webGpuErrors().slice(errorsBefore);
  if (errors.length) {
    console.log(`\n${label}: FAILED, the device raised ${errors.length} error(s): ${errors[0].split('\n')[0]}`);
    return { model: name, step: mode, layers: LM_CHAR_MODELS[name], params, error: errors[0] };
  }
  if (mode === 'planned' && !planned)
    console.log(`\n${label}: not planned, eager steps were timed (${notes.join('; ') || 'its warm-up steps were too few to plan it'})`);
  const torchMs = shape.ratio ? PYTORCH_H100_MS_PER_STEP[name] : undefined;
  const vsTorch = torchMs === undefined ? undefined : timing.medianMs / torchMs;
  const ratio = vsTorch === undefined ? '' : `, ${fmt(vsTorch)}x PyTorch's ${torchMs} ms`;
  const losses = `loss ${fmt(timing.losses[0], 4)} -> ${fmt(timing.losses[timing.losses.length - 1], 4)}`;
  const perStep = objects.perStep(steps);
  const created = perStep
    ? `; per step ${Object.entries(perStep)
        .map(([k, n]) => `${fmt(n)} ${k}`)
        .join(', ')}`
    : '';
  console.log(
    `\n${label}, ${(params / 1e6).toFixed(2)}M params: median ${fmt(timing.medianMs)} ms/step (min ${fmt(timing.minMs)}, max ${fmt(timing.maxMs)}, loop mean ${fmt(timing.meanMs)}; ${timing.pipelined ? 'pipelined' : `host ${fmt(timing.hostMs)}, waiting ${fmt(timing.waitMs)}`}), ${fmt(timing.tokensPerSecond / 1e3)}k tok/s${ratio}; ${losses}${created}`,
  );
  const result: Record<string, unknown> = {
    model: name,
    step: mode,
    planned,
    layers: LM_CHAR_MODELS[name],
    params,
    ...timing,
    pytorchMs: torchMs,
    vsPytorch: vsTorch,
    tensorBytesBefore: memoryBefore,
    gpuObjectsPerStep: perStep,
  };
  if (values.profile) {
    const profile = await profileTrainStep(options);
    console.log(formatProfile(profile, top));
    result.profile = { ...profile, kernels: profile.kernels.slice(0, 40) };
  }
  return result;
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const steps = positive('steps', values.steps);
  const warmup = positive('warmup', values.warmup, 0);
  const batch = positive('batch', values.batch);
  const ctx = positive('ctx', values.ctx);
  const dim = positive('dim', values.dim);
  const heads = positive('heads', values.heads);
  if (dim % heads !== 0) throw new Error(`--dim ${dim} is not a multiple of --heads ${heads}`);
  const top = positive('top', values.top);
  const dropout = Number(values.dropout);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`--dropout ${values.dropout} is outside [0, 1)`);
  const names = values.models.split(',').filter(Boolean);
  const modes = values.step.split(',').filter(Boolean);
  for (const mode of modes) if (mode !== 'planned' && mode !== 'eager') throw new Error(`--step ${mode}: choose planned, eager or both (planned,eager)`);
  for (const name of names) if (!LM_CHAR_MODELS[name]) throw new Error(`unknown model "${name}"; choose from ${Object.keys(LM_CHAR_MODELS).join(', ')}`);
  const text = readFileSync(values.data, 'utf8');
  const { adapter, nullDevice } = await startBackend();
  const tuning = values.tune && values.backend === 'webgpu' ? await tuneKernels(names, { batch, ctx, dim, heads }) : undefined;
  const standard = batch === 64 && ctx === 256 && dim === 384 && heads === 6 && dropout === 0.2;
  // The null device does no GPU work: its time is the host's alone, never comparable with a GPU's.
  const noRatio = nullDevice ? " (Dawn's null device: host time only, no PyTorch ratio)" : standard ? '' : ' (not the standard shape: no PyTorch ratio)';
  console.log(
    `backend: ${adapter}\nbatch ${batch}, context ${ctx}, D ${dim}, ${heads} heads, dropout ${dropout}, ${batch * ctx} tokens/step, ${warmup} warm-up + ${steps} timed steps${noRatio}`,
  );
  const failed: string[] = [];
  const results: Record<string, unknown>[] = [];
  // Written after every model, so a run cut short keeps what it measured.
  const save = () => {
    if (values.json)
      writeJsonReport(values.json, {
        date: new Date().toISOString(),
        node: process.version,
        backend: adapter,
        batch,
        ctx,
        dim,
        heads,
        dropout,
        warmup,
        tuning,
        results,
      });
  };

  for (const name of names) {
    for (const mode of modes) {
      const result = await timeModel(name, mode as StepMode, { text, batch, ctx, dim, heads, dropout, warmup, steps, top, ratio: standard && !nullDevice });
      if (result.error) failed.push(`${name} (${mode})`);
      results.push(result);
      save();
    }
  }

  if (values.json) console.log(`wrote ${values.json}`);
  if (failed.length) throw new Error(`the device raised errors in the steps of ${failed.join(', ')}: no time is valid for them`);
}

runGpuEntry(main);
