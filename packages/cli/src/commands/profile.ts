import { totalmem } from 'node:os';
import { resolveRecipe, selectBackend, ShiftmixModel, tf, checkTrainingFits } from '@shiftmix/core';
import { TrainStepper } from '@shiftmix/core/tooling';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { modelShapeOf } from '../options.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { BACKEND_FLAG } from './shared.js';
import { loadWebGpu } from './webgpu.js';

export const profileCommand = defineCommand({
  name: 'profile',
  summary: 'Profile one training step and print the kernels that take the most time',
  usage: 'profile --layers SPEC [--dim N --heads N --ctx N --batch N --backend NAME] [--top N] [--json]',
  details: [
    'Builds the model on random tokens and times one optimizer step as the trainer takes it',
    '(forward, backward, clipping, AdamW) after a warm-up: per kernel on webgpu from timestamp queries, on wasm and cpu from each',
    "kernel's wall time. The shares say what to fuse next.",
  ].join('\n'),
  flags: {
    layers: { type: 'string', required: true, placeholder: 'SPEC', description: 'Layer pattern, e.g. "hsm-ab*6"' },
    dim: { type: 'number', integer: true, min: 1, default: 384, description: 'Model width D' },
    heads: { type: 'number', integer: true, min: 1, default: 6, description: 'Attention heads' },
    ctx: { type: 'number', integer: true, min: 1, default: 256, description: 'Context length T' },
    batch: { type: 'number', integer: true, min: 1, default: 64, description: 'Sequences per batch' },
    vocab: { type: 'number', integer: true, min: 2, default: 65, description: 'Vocabulary size' },
    ffn: { type: 'string', default: 'match', placeholder: 'match|N', description: 'FFN width' },
    dropout: { type: 'number', min: 0, max: 0.99, default: 0, description: 'Dropout rate (the standard recipe uses 0.2)' },
    top: { type: 'number', integer: true, min: 1, default: 15, description: 'Kernels to list' },
    json: { type: 'boolean', description: 'Print the whole profile as JSON' },
    ...BACKEND_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix profile --layers "hsm-ab*6" --backend webgpu',
    'shiftmix profile --layers "softmax-attention*2" --dim 64 --ctx 64 --batch 4 --backend wasm',
  ],
  async run(flags, { io }) {
    await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
    const modelOptions = { ...modelShapeOf(flags), vocabSize: flags.vocab };
    ShiftmixModel.check(modelOptions);
    checkTrainingFits(ShiftmixModel.footprint(modelOptions, flags.batch), totalmem(), flags.batch);
    const profiler = await loadWebGpu('the profiler');
    await selectBackend(flags.backend);
    const model = ShiftmixModel.create(modelOptions);
    // The profile times each kernel as tfjs runs it, so the step is the eager one.
    const stepper = new TrainStepper(model, resolveRecipe({ batch: flags.batch }), { plan: false });
    const x = tf.randomUniform([flags.batch, flags.ctx], 0, flags.vocab, 'int32') as tf.Tensor2D;
    const y = tf.randomUniform([flags.batch, flags.ctx], 0, flags.vocab, 'int32') as tf.Tensor2D;
    let steps = 0;
    // The stepper frees the batch it is given, so each step gets its own handles on x and y.
    const step = async (): Promise<void> => {
      await stepper.step({ x: x.clone(), y: y.clone() }, ++steps);
    };
    try {
      const profile = await profiler.profileStep(step, { warmup: 2 });
      if (flags.json) io.stdout(`${JSON.stringify({ layers: flags.layers, params: model.paramCount(), ...profile })}\n`);
      else
        io.stdout(
          `${flags.layers}: ${model.paramCount().toLocaleString('en-US')} parameters, batch ${flags.batch} x ${flags.ctx}\n${profiler.formatProfile(profile, flags.top)}\n`,
        );
    } finally {
      tf.dispose([x, y]);
      stepper.optimizer.dispose();
      model.dispose();
    }
  },
});
