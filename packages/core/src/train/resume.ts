import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/load.js';
import { loadCheckpointFiles } from '../checkpoint/decode.js';
import { FILES } from '../checkpoint/format.js';
import { ShiftmixError } from '../errors.js';
import { tf } from '../tf.js';
import { resolveRecipe, type TrainRecipe } from './recipe.js';
import { holdRunLock } from './run-lock.js';
import { runTraining, type TrainOptions } from './trainer.js';
import type { SerializableTokenizer, TrainableModel, TrainingData, TrainSummary } from './types.js';

export interface ResumeOptions<M extends TrainableModel> {
  /** The same data the run was trained on (batches are drawn from it with the saved Rng state). */
  data: TrainingData;
  /** New total step count; the cosine schedule is recomputed for it. Default: the recipe's. */
  steps?: number;
  /**
   * New peak learning rate from the resumed step on (e.g. lower, after the run diverged);
   * the schedule is recomputed with it and saved with the next checkpoints, so a later
   * resume keeps it. Without `minLr` the floor keeps its ratio to the peak.
   */
  lr?: number;
  /** New floor of the cosine decay. Default: the recipe's, scaled with `lr` when that is given. */
  minLr?: number;
  /** Rebuilds the model from config.json; defaults to ShiftmixModel.create. */
  createModel?: (config: Record<string, unknown>) => M;
  onProgress?: TrainOptions['onProgress'];
  signal?: AbortSignal;
  pipeline?: TrainOptions['pipeline'];
  workers?: TrainOptions['workers'];
  workerModules?: TrainOptions['workerModules'];
  /** The run directory's lock, when the caller took it first (see TrainOptions.lock). */
  lock?: TrainOptions['lock'];
  onWarning?: TrainOptions['onWarning'];
  plan?: TrainOptions['plan'];
  onNote?: TrainOptions['onNote'];
}

/** The recipe a resumed run goes on with: the saved one with a new step count or learning rates. */
export function resumedRecipe(saved: Partial<TrainRecipe>, changes: { steps?: number; lr?: number; minLr?: number }): TrainRecipe {
  const base = resolveRecipe(saved);
  const lr = changes.lr ?? base.lr;
  const minLr = changes.minLr ?? (changes.lr === undefined ? base.minLr : base.minLr * (changes.lr / base.lr));
  return resolveRecipe({ ...base, steps: changes.steps ?? base.steps, lr, minLr });
}

/**
 * Continues a run from `dir`: a run directory (its last/ checkpoint is used) or a
 * checkpoint directory inside one. Weights, optimizer moments, step, both Rng states
 * and the metrics position are restored, so the run goes on exactly as if it had not
 * stopped. Returns the summary and the trained model (the caller disposes it).
 */
export async function resume<M extends TrainableModel>(dir: string, options: ResumeOptions<M>): Promise<TrainSummary & { model: M }> {
  const isCheckpoint = existsSync(join(dir, FILES.config));
  const checkpointDir = isCheckpoint ? dir : join(dir, 'last');
  const outDir = isCheckpoint ? dirname(dir) : dir;
  if (!existsSync(checkpointDir)) {
    throw new ShiftmixError(`no checkpoint directory at ${checkpointDir}`, 'Give a run directory written by train() (it holds last/)', 'E_CHECKPOINT');
  }
  // Held from before the checkpoint is read until the run ends: no other process may write the run meanwhile.
  const { lock, release } = holdRunLock(outDir, options.lock, { onWarning: options.onWarning });
  try {
    return await resumeLocked(checkpointDir, outDir, { ...options, lock });
  } finally {
    release();
  }
}

async function resumeLocked<M extends TrainableModel>(checkpointDir: string, outDir: string, options: ResumeOptions<M>): Promise<TrainSummary & { model: M }> {
  const loaded = await loadCheckpoint<M>(checkpointDir, { createModel: options.createModel, optimizer: true });
  return continueRun(loaded, checkpointDir, outDir, options);
}

/**
 * resume() from a checkpoint's files in memory (as checkpointFiles gives them), for a
 * browser or a web worker: the run goes on exactly as from a directory, writes nothing,
 * and hands each checkpoint it would save to `onCheckpoint`. `name` names it in errors.
 */
export async function resumeFromFiles<M extends TrainableModel>(
  files: ReadonlyMap<string, Uint8Array>,
  options: ResumeOptions<M> & { name?: string; onCheckpoint?: TrainOptions['onCheckpoint'] },
): Promise<TrainSummary & { model: M }> {
  const name = options.name ?? 'the checkpoint';
  const loaded = await loadCheckpointFiles<M>(files, { createModel: options.createModel, optimizer: true, name });
  return continueRun(loaded, name, undefined, options);
}

async function continueRun<M extends TrainableModel>(
  loaded: LoadedCheckpoint<M>,
  where: string,
  outDir: string | undefined,
  options: ResumeOptions<M> & { onCheckpoint?: TrainOptions['onCheckpoint'] },
): Promise<TrainSummary & { model: M }> {
  const { model, optimizer, state } = loaded;
  try {
    if (!loaded.recipe) {
      throw new ShiftmixError(
        `checkpoint ${where} has no training recipe in ${FILES.config}`,
        'Start a new run with train() from its weights instead',
        'E_CHECKPOINT',
      );
    }
    const recipe = resumedRecipe(loaded.recipe, options);
    const tokenizer: SerializableTokenizer | undefined = loaded.tokenizer === undefined ? undefined : { toJSON: () => loaded.tokenizer };
    const summary = await runTraining(
      {
        model,
        data: options.data,
        recipe,
        tokenizer,
        outDir,
        onProgress: options.onProgress,
        onCheckpoint: options.onCheckpoint,
        signal: options.signal,
        pipeline: options.pipeline,
        plan: options.plan,
        onNote: options.onNote,
        workers: options.workers,
        workerModules: options.workerModules,
        lock: options.lock,
        onWarning: options.onWarning,
      },
      { optimizer: optimizer!, state, ...(outDir === undefined ? {} : { checkpoint: where }) },
    );
    return { ...summary, model };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose([...optimizer!.m.values(), ...optimizer!.v.values()]);
  }
}
