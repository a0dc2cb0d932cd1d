import { existsSync } from 'node:fs';
import path from 'node:path';
import { totalmem } from 'node:os';
import { checkTrainingFits, selectBackend, ShiftmixModel, train } from '@shiftmix/core';
import { POSITIONAL_KINDS } from '@shiftmix/core/tooling';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { modelShapeOf, parseMixerOptions, parseSchedule, requireData } from '../options.js';
import { absolutePlugin, checkContextFits, hashFiles, loadData, writeRunInfo } from '../run-info.js';
import { lockRunFolder, requireOutputDir } from '../run-folder.js';
import { InputError } from '../errors.js';
import { BACKEND_FLAG, EAGER_STEP_FLAG, WORKERS_FLAG, printRunStart, printSummary, stepOptions, stoppedExitCode, withProgress } from './shared.js';
import { closeData, DATA_FLAGS, describeData, encodingProgress, tokenizerFlag } from './data.js';
import { checkTune, KERNEL_TUNING_FILE, tuneForRun } from './webgpu.js';

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train a language model on text (characters or subwords) or token files',
  usage: 'train --data FILE --layers SPEC --out DIR [flags]',
  details: [
    'SPEC is a layer pattern: mixer names separated by commas, NAME*COUNT to repeat,',
    'e.g. "hsm-ab*4", "hsm-ab*2,softmax-attention,hsm-ab"; NAME(KEY=VALUE, ...) gives those',
    'layers their own options, e.g. "softmax-attention(window=2),softmax-attention".',
    'DIR receives last/ (resumable), best/ (lowest validation loss), metrics.jsonl and',
    'run.json, and holds run.lock while a process trains in it. Progress goes to stderr.',
    'Ctrl-C or SIGTERM stops after the current step and saves last/ (exit code 130 or 143).',
    'DATA is a text file, a folder of text files, a quoted glob ("texts/**/*.txt"), a JSONL file',
    '(a "text" field per line), or token files (.bin: nanoGPT\'s or llm.c\'s, or a folder with',
    'train.bin and val.bin; their tokenizer.json or meta.json beside them). Text is split by tokens:',
    'the last --val-fraction is validation. Losses are also shown in bits per byte, which compare',
    'across tokenizers.',
  ].join('\n'),
  flags: {
    ...DATA_FLAGS,
    layers: { type: 'string', required: true, placeholder: 'SPEC', description: 'Layer pattern, e.g. "hsm-ab*4,softmax-attention"' },
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'Run directory for checkpoints and metrics' },
    dim: { type: 'number', integer: true, min: 1, default: 128, description: 'Model width D' },
    heads: { type: 'number', integer: true, min: 1, default: 4, description: 'Attention heads (D must be divisible by it)' },
    ctx: { type: 'number', integer: true, min: 1, default: 128, description: 'Context length T' },
    batch: { type: 'number', integer: true, min: 1, default: 16, description: 'Sequences per batch' },
    steps: { type: 'number', integer: true, min: 1, default: 1000, description: 'Optimizer steps' },
    lr: { type: 'number', min: 0, exclusiveMin: true, default: 1e-3, description: 'Peak learning rate' },
    minLr: { type: 'number', min: 0, default: 1e-4, description: 'Learning rate at the end of the cosine decay' },
    warmup: { type: 'number', integer: true, min: 0, default: 100, description: 'Linear warm-up steps' },
    dropout: { type: 'number', min: 0, max: 0.99, default: 0, description: 'Dropout rate' },
    weightDecay: { type: 'number', min: 0, default: 0.1, description: 'AdamW weight decay on matrices' },
    clip: { type: 'number', min: 0, default: 1, description: 'Gradient clipping norm (0: off)' },
    ffn: { type: 'string', default: 'match', placeholder: 'match|N', description: 'FFN width: "match" (parameter-matched to attention) or a number' },
    schedule: { type: 'string', default: 'radix', placeholder: 'radix|doubling', description: 'Shift schedule, or explicit lists as JSON: "[[1,2],[3,6]]"' },
    positional: {
      type: 'choice',
      choices: POSITIONAL_KINDS,
      default: 'auto',
      description: 'Position embeddings ("auto": learned when any layer is attention)',
    },
    seed: { type: 'number', integer: true, min: 0, default: 1337, description: 'Seed for weights, batches and dropout' },
    evalEvery: { type: 'number', integer: true, min: 1, default: 100, description: 'Evaluate and save last/ every N steps' },
    evalBatches: { type: 'number', integer: true, min: 1, default: 20, description: 'Validation batches per evaluation' },
    valFraction: { type: 'number', min: 0, exclusiveMin: true, max: 0.9, default: 0.1, description: 'Fraction of the text held out for validation' },
    mixerOption: { type: 'list', placeholder: 'NAME.KEY=VALUE', description: 'A mixer option, e.g. softmax-attention.window=64; repeatable' },
    overwrite: { type: 'boolean', description: 'Replace a run that already lives in --out' },
    json: { type: 'boolean', description: 'End stdout with one JSON line: params, steps, losses, tokensPerSecond, seconds, backend' },
    tune: {
      type: 'boolean',
      description: `webgpu: time the matmul tiles (and attention blocks) on this GPU first and use the fastest (kept in DIR/${KERNEL_TUNING_FILE}; resume reuses them)`,
    },
    ...BACKEND_FLAG,
    ...WORKERS_FLAG,
    ...EAGER_STEP_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix train --data input.txt --layers "hsm-ab*4" --out runs/hsm',
    'shiftmix train --data input.txt --tokenizer gpt2 --layers "hsm-ab*4" --out runs/hsm-bpe',
    'shiftmix train --data data/shakespeare.bin --layers "hsm-ab*4" --out runs/hsm-tokens',
    'shiftmix train --data input.txt --layers "hsm-ab*2,softmax-attention,hsm-ab" --out runs/hybrid --steps 2000 --json',
    'shiftmix train --data input.txt --layers "my-mixer*4" --plugin ./my-mixer.js --out runs/mine',
  ],
  async run(flags, { io }) {
    await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
    // Everything that can be checked without a backend or the data is checked first.
    const modelOptions = {
      ...modelShapeOf(flags),
      mixers: parseMixerOptions(flags.mixerOption),
      positional: flags.positional,
      schedule: parseSchedule(flags.schedule),
      seed: flags.seed,
    };
    // The mixers validate their own options (heads that divide dim, windows, ...).
    ShiftmixModel.check(modelOptions);
    const data = requireData(flags.data, io.cwd, '--data');
    const outDir = requireOutputDir(flags.out, io.cwd, '--out');

    const corpus = await loadData(data, {
      tokenizer: tokenizerFlag(flags.tokenizer, io.cwd),
      valFraction: flags.valFraction,
      textField: flags.textField,
      onProgress: encodingProgress(io),
    });
    checkContextFits(corpus, flags.ctx, flags.data);
    // A model or batch too large for this machine is a clear error, not an allocation failure.
    checkTrainingFits(ShiftmixModel.footprint({ ...modelOptions, vocabSize: corpus.vocabSize }, flags.batch), totalmem(), flags.batch);
    // Taken before anything is written to --out: a second train or resume on it stops here.
    const folder = lockRunFolder(io, outDir, `shiftmix train --out ${flags.out}`);
    try {
      if (existsSync(path.join(outDir, 'last')) && !flags.overwrite) {
        throw new InputError(
          `--out ${flags.out} already holds a training run`,
          `Continue it with shiftmix resume --out ${flags.out}, pick another --out, or pass --overwrite to replace it`,
        );
      }
      const backend = await selectBackend(flags.backend);
      checkTune(flags.tune, backend);
      // Created after the backend is selected, so the weights live on it.
      const model = ShiftmixModel.create({ ...modelOptions, vocabSize: corpus.vocabSize });
      try {
        for (const warning of model.scheduleWarnings) io.stderr(`shiftmix: warning: ${warning}\n`);
        // Plugin mixers are checked before run.json is written, so a refused one leaves no run behind.
        model.preflight();
        printRunStart(io, {
          layers: flags.layers,
          params: model.paramCount(),
          backend,
          workers: flags.workers,
          batch: flags.batch,
          ctx: flags.ctx,
          steps: flags.steps,
        });
        io.stderr(`shiftmix: data: ${describeData(corpus)}\n`);
        writeRunInfo(outDir, {
          data,
          valFraction: flags.valFraction,
          tokenizer: corpus.tokenizer ? tokenizerFlag(flags.tokenizer, io.cwd) : undefined,
          ...(flags.textField === 'text' ? {} : { textField: flags.textField }),
          plugins: flags.plugin.map((p) => absolutePlugin(p, io.cwd)),
          backend: flags.backend,
          dataSha256: hashFiles(corpus.files),
        });
        if (flags.tune) await tuneForRun(io, outDir, model, flags.batch);
        const { value: summary, stoppedBy } = await withProgress(io, { out: flags.out, command: 'train' }, (onProgress, signal) =>
          train({
            model,
            data: corpus.dataset,
            tokenizer: corpus.tokenizer,
            outDir,
            lock: folder.lock,
            overwrite: flags.overwrite,
            onProgress,
            signal,
            ...stepOptions(io, flags),
            workers: flags.workers,
            recipe: {
              steps: flags.steps,
              batch: flags.batch,
              lr: flags.lr,
              minLr: flags.minLr,
              warmup: flags.warmup,
              weightDecay: flags.weightDecay,
              clip: flags.clip,
              evalEvery: flags.evalEvery,
              evalBatches: flags.evalBatches,
              seed: flags.seed,
            },
          }),
        );
        printSummary(io, summary, flags.json, backend);
        // Stopped by Ctrl-C or SIGTERM: last/ is saved, but the run did not finish.
        return summary.stopped ? stoppedExitCode(stoppedBy) : 0;
      } finally {
        model.dispose();
      }
    } finally {
      folder.release();
      closeData(corpus);
    }
  },
});
