import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCheckpointInfo, resume, selectBackend, ShiftmixModel, tokenizerFromJSON, type Corpus } from '@shiftmix/core';
import { resumedRecipe } from '@shiftmix/core/tooling';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { InputError } from '../errors.js';
import { requireData } from '../options.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { lockRunFolder, requireRunFolder } from '../run-folder.js';
import { checkContextFits, hashFiles, loadData, readRunInfo, writeRunInfo } from '../run-info.js';
import { closeData, encodingProgress } from './data.js';
import { BACKEND_FLAG, EAGER_STEP_FLAG, WORKERS_FLAG, printRunStart, printSummary, stepOptions, stoppedExitCode, withProgress } from './shared.js';
import { checkTune, KERNEL_TUNING_FILE, reapplyTuning, tuneForRun } from './webgpu.js';

export const resumeCommand = defineCommand({
  name: 'resume',
  summary: 'Continue a training run from its last checkpoint',
  usage: 'resume --out DIR [--steps N] [--lr LR] [flags]',
  details: [
    'Weights, optimizer state, step, random streams and metrics continue exactly where the',
    'run stopped. The data file, plugins and backend come from DIR/run.json unless given.',
    '--lr (and --min-lr) set a new learning rate from the resumed step on, e.g. after the run',
    'diverged; the checkpoints keep it, so later resumes go on with it. Ctrl-C or SIGTERM',
    'stops after the current step and saves last/ (exit code 130 or 143).',
  ].join('\n'),
  flags: {
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'The --out directory of a shiftmix train run' },
    steps: { type: 'number', integer: true, min: 1, placeholder: 'N', description: "New total number of steps (default: the run's)" },
    lr: { type: 'number', min: 0, exclusiveMin: true, placeholder: 'LR', description: "New peak learning rate from the resumed step on (default: the run's)" },
    minLr: {
      type: 'number',
      min: 0,
      placeholder: 'LR',
      description: "New floor of the cosine decay (default: the run's, scaled with --lr when that is given)",
    },
    data: { type: 'string', placeholder: 'DATA', description: 'Training data, when it moved since the run started' },
    json: { type: 'boolean', description: 'End stdout with one JSON line, as train --json' },
    tune: { type: 'boolean', description: `webgpu: tune the kernels again (else DIR/${KERNEL_TUNING_FILE} is reused when present)` },
    backend: { ...BACKEND_FLAG.backend, default: undefined, description: "Compute backend (default: the run's)" },
    ...WORKERS_FLAG,
    ...EAGER_STEP_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix resume --out runs/hsm', 'shiftmix resume --out runs/hsm --steps 5000 --json', 'shiftmix resume --out runs/hsm --lr 1e-4'],
  async run(flags, { io }) {
    const outDir = requireRunFolder(flags.out, io.cwd, '--out');
    const lastDir = path.join(outDir, 'last');
    if (!existsSync(path.join(lastDir, 'config.json'))) {
      throw new InputError(
        `--out ${flags.out} holds no resumable run (no last/ checkpoint)`,
        'Pass the --out directory of a shiftmix train run that saved at least once',
      );
    }
    // Taken before anything is read or written: a second train or resume on --out stops here.
    const folder = lockRunFolder(io, outDir, `shiftmix resume --out ${flags.out}`);
    let corpus: Corpus | undefined;
    try {
      const info = readRunInfo(outDir);
      const dataFlag = flags.data ?? info?.data;
      if (dataFlag === undefined) {
        throw new InputError(`--out ${flags.out} does not record its training data (no run.json)`, 'Pass the training data with --data DATA');
      }
      const data = requireData(dataFlag, io.cwd, '--data');
      await loadAllPlugins(io.cwd, [...(info?.plugins ?? []), ...flags.plugin], warnOn(io));
      const { config, state } = await readCheckpointInfo(lastDir);
      if (flags.steps !== undefined && flags.steps <= state.step) {
        throw new InputError(
          `--steps ${flags.steps} is not past the ${state.step} steps the run has taken`,
          `Pass a larger --steps, e.g. --steps ${state.step * 2}`,
        );
      }
      // Checked now, not after the model is built: a floor above the new peak, say.
      const recipe = config.recipe ? resumedRecipe(config.recipe, { steps: flags.steps, lr: flags.lr, minLr: flags.minLr }) : undefined;
      // The checkpoint's own tokenizer encodes the text; token files without one bring their ids.
      const tokenizerFile = path.join(lastDir, 'tokenizer.json');
      const tokenizer = existsSync(tokenizerFile) ? await tokenizerFromJSON(parseSaved(tokenizerFile), tokenizerFile) : undefined;
      const valFraction = info?.valFraction ?? 0.1;
      const loaded = await loadData(data, { tokenizer, valFraction, textField: info?.textField, onProgress: encodingProgress(io) });
      corpus = loaded;
      checkContextFits(loaded, Number(config.model.contextLength), dataFlag);
      const backendName = flags.backend ?? info?.backend ?? 'auto';
      const backend = await selectBackend(backendName);
      checkTune(flags.tune, backend);
      const dataSha256 = hashFiles(loaded.files);
      if (info?.dataSha256 !== undefined && info.dataSha256 !== dataSha256) {
        const best = state.bestValLoss === null ? '' : ` (${state.bestValLoss.toFixed(4)}, best/)`;
        io.stderr(
          `shiftmix: warning: ${flags.data ? `--data ${flags.data}` : dataFlag} is not the text this run was trained on (its SHA-256 differs from run.json's): ` +
            `its validation split is another, so the best validation loss so far${best} does not compare with the losses from here on\n`,
        );
      }
      if (info && (flags.data || info.dataSha256 !== dataSha256)) writeRunInfo(outDir, { ...info, data, dataSha256 });
      if (flags.tune) {
        // The run's model as resume() will build it, only to tune its kernels.
        const shape = ShiftmixModel.create(config.model as unknown as Parameters<typeof ShiftmixModel.create>[0]);
        try {
          await tuneForRun(io, outDir, shape, config.recipe?.batch ?? 1);
        } finally {
          shape.dispose();
        }
      } else await reapplyTuning(io, outDir, backend);
      printRunStart(io, {
        layers: String(config.model.layers),
        params: ShiftmixModel.footprint(config.model as unknown as Parameters<typeof ShiftmixModel.footprint>[0], 1).params,
        backend,
        workers: flags.workers,
        batch: recipe?.batch ?? 1,
        ctx: Number(config.model.contextLength),
        steps: recipe?.steps ?? state.step,
        fromStep: state.step,
      });
      let model: ShiftmixModel | undefined;
      try {
        const { value: summary, stoppedBy } = await withProgress(io, { out: flags.out, command: 'resume', steps: flags.steps }, (onProgress, signal) =>
          resume<ShiftmixModel>(outDir, {
            data: loaded.dataset,
            steps: flags.steps,
            lr: flags.lr,
            minLr: flags.minLr,
            onProgress,
            signal,
            ...stepOptions(io, flags),
            workers: flags.workers,
            lock: folder.lock,
          }),
        );
        model = summary.model;
        printSummary(io, summary, flags.json, backend);
        // Stopped by Ctrl-C or SIGTERM: last/ is saved, but the run did not finish.
        return summary.stopped ? stoppedExitCode(stoppedBy) : 0;
      } finally {
        model?.dispose();
      }
    } finally {
      folder.release();
      closeData(corpus);
    }
  },
});

function parseSaved(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file} is damaged (${(error as Error).message})`, 'Resume from a checkpoint whose tokenizer.json is intact, or train again');
  }
}
