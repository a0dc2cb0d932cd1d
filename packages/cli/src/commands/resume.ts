import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CharTokenizer, readCheckpointInfo, resume, selectBackend, ShiftmixModel } from '@shiftmix/core';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { InputError } from '../errors.js';
import { requireDirectory, requireTextFile } from '../options.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { checkContextFits, loadText, readRunInfo, writeRunInfo } from '../run-info.js';
import { BACKEND_FLAG, WORKERS_FLAG, printSummary, withProgress } from './shared.js';
import { checkTune, KERNEL_TUNING_FILE, reapplyTuning, tuneForRun } from './webgpu.js';

export const resumeCommand = defineCommand({
  name: 'resume',
  summary: 'Continue a training run from its last checkpoint',
  usage: 'resume --out DIR [--steps N] [flags]',
  details: [
    'Weights, optimizer state, step, random streams and metrics continue exactly where the',
    'run stopped. The data file, plugins and backend come from DIR/run.json unless given.',
  ].join('\n'),
  flags: {
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'The --out directory of a shiftmix train run' },
    steps: { type: 'number', integer: true, min: 1, placeholder: 'N', description: "New total number of steps (default: the run's)" },
    data: { type: 'string', placeholder: 'FILE', description: 'Training text, when it moved since the run started' },
    json: { type: 'boolean', description: 'End stdout with one JSON line, as train --json' },
    tune: { type: 'boolean', description: `webgpu: tune the kernels again (else DIR/${KERNEL_TUNING_FILE} is reused when present)` },
    backend: { ...BACKEND_FLAG.backend, default: undefined, description: "Compute backend (default: the run's)" },
    ...WORKERS_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix resume --out runs/hsm', 'shiftmix resume --out runs/hsm --steps 5000 --json'],
  async run(flags, { io }) {
    const outDir = requireDirectory(flags.out, io.cwd, '--out');
    const lastDir = path.join(outDir, 'last');
    if (!existsSync(path.join(lastDir, 'config.json'))) {
      throw new InputError(
        `--out ${flags.out} holds no resumable run (no last/ checkpoint)`,
        'Pass the --out directory of a shiftmix train run that saved at least once',
      );
    }
    const info = readRunInfo(outDir);
    const dataFlag = flags.data ?? info?.data;
    if (dataFlag === undefined) {
      throw new InputError(`--out ${flags.out} does not record its training data (no run.json)`, 'Pass the training text with --data FILE');
    }
    const dataFile = requireTextFile(dataFlag, io.cwd, '--data');
    await loadAllPlugins(io.cwd, [...(info?.plugins ?? []), ...flags.plugin], warnOn(io));
    const { config, state } = await readCheckpointInfo(lastDir);
    if (flags.steps !== undefined && flags.steps <= state.step) {
      throw new InputError(
        `--steps ${flags.steps} is not past the ${state.step} steps the run has taken`,
        `Pass a larger --steps, e.g. --steps ${state.step * 2}`,
      );
    }
    const tokenizer = CharTokenizer.fromJSON(JSON.parse(readFileSync(path.join(lastDir, 'tokenizer.json'), 'utf8')));
    const valFraction = info?.valFraction ?? 0.1;
    const text = await loadText(dataFile, { tokenizer, valFraction });
    checkContextFits(text, Number(config.model.contextLength), dataFlag);
    const backendName = flags.backend ?? info?.backend ?? 'auto';
    const backend = await selectBackend(backendName);
    checkTune(flags.tune, backend);
    if (info && flags.data) writeRunInfo(outDir, { ...info, data: dataFile });
    if (flags.tune) {
      // The run's model as resume() will build it, only to tune its kernels.
      const shape = ShiftmixModel.create(config.model as unknown as Parameters<typeof ShiftmixModel.create>[0]);
      try {
        await tuneForRun(io, outDir, shape, config.recipe?.batch ?? 1);
      } finally {
        shape.dispose();
      }
    } else await reapplyTuning(io, outDir, backend);
    let model: ShiftmixModel | undefined;
    try {
      const summary = await withProgress(io, (onProgress, signal) =>
        resume<ShiftmixModel>(outDir, { data: text.dataset, steps: flags.steps, onProgress, signal, workers: flags.workers }),
      );
      model = summary.model;
      printSummary(io, summary, flags.json, backend);
      // Stopped by Ctrl-C: last/ is saved, but the run did not finish.
      return summary.stopped ? 130 : 0;
    } finally {
      model?.dispose();
    }
  },
});
