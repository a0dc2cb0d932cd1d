import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadCheckpoint } from '../checkpoint/load.js';
import { FILES } from '../checkpoint/format.js';
import { ShiftmixError } from '../errors.js';
import { tf } from '../tf.js';
import { resolveRecipe } from './recipe.js';
import { runTraining, type TrainOptions } from './trainer.js';
import type { SerializableTokenizer, TrainableModel, TrainingData, TrainSummary } from './types.js';

export interface ResumeOptions<M extends TrainableModel> {
  /** The same data the run was trained on (batches are drawn from it with the saved Rng state). */
  data: TrainingData;
  /** New total step count; the cosine schedule is recomputed for it. Default: the recipe's. */
  steps?: number;
  /** Rebuilds the model from config.json; defaults to ShiftmixModel.create. */
  createModel?: (config: Record<string, unknown>) => M;
  onProgress?: TrainOptions['onProgress'];
  signal?: AbortSignal;
  pipeline?: TrainOptions['pipeline'];
  workers?: TrainOptions['workers'];
  workerModules?: TrainOptions['workerModules'];
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
  const loaded = await loadCheckpoint<M>(checkpointDir, { createModel: options.createModel, optimizer: true });
  const { model, optimizer, state } = loaded;
  try {
    if (!loaded.recipe) {
      throw new ShiftmixError(
        `checkpoint ${checkpointDir} has no training recipe in ${FILES.config}`,
        'Start a new run with train() from its weights instead',
        'E_CHECKPOINT',
      );
    }
    const recipe = resolveRecipe({ ...loaded.recipe, ...(options.steps !== undefined ? { steps: options.steps } : {}) });
    const tokenizer: SerializableTokenizer | undefined = loaded.tokenizer === undefined ? undefined : { toJSON: () => loaded.tokenizer };
    const summary = await runTraining(
      {
        model,
        data: options.data,
        recipe,
        tokenizer,
        outDir,
        onProgress: options.onProgress,
        signal: options.signal,
        pipeline: options.pipeline,
        workers: options.workers,
        workerModules: options.workerModules,
      },
      { optimizer: optimizer!, state },
    );
    return { ...summary, model };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose([...optimizer!.m.values(), ...optimizer!.v.values()]);
  }
}
