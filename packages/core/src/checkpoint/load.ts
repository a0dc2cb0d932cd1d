import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ShiftmixError } from '../errors.js';
import type { ShiftmixModel } from '../model/model.js';
import type { TrainableModel } from '../training-types.js';
import { recoverInterrupted } from './atomic.js';
import { loadFrom, readInfoFrom, type CheckpointSource, type LoadCheckpointOptions, type LoadedCheckpoint } from './decode.js';
import type { CheckpointConfig, TrainState } from './format.js';

export type { LoadCheckpointOptions, LoadedCheckpoint } from './decode.js';

/**
 * A checkpoint directory as a source of files, after restoring one whose swap was
 * interrupted (see writeDirectoryAtomically). A file that cannot be read counts as missing.
 */
async function directorySource(dir: string): Promise<CheckpointSource> {
  await recoverInterrupted(dir);
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists)
    throw new ShiftmixError(`no checkpoint directory at ${dir}`, 'Give the directory that holds config.json (e.g. <run>/last or <run>/best)', 'E_CHECKPOINT');
  return {
    where: dir,
    read: (name) => readFile(join(dir, name)).catch(() => undefined),
  };
}

/** Reads config.json and state.json only: enough to describe a checkpoint without loading it. */
export async function readCheckpointInfo(dir: string): Promise<{ config: CheckpointConfig; state: TrainState }> {
  return readInfoFrom(await directorySource(dir));
}

/**
 * Loads and validates a checkpoint: format version, every file present and matching its
 * recorded size and SHA-256, safetensors well formed, names and shapes equal to those
 * of the model that config.json describes, and every weight (and moment) finite. Any
 * problem is a ShiftmixError naming it. `loadCheckpointFiles` does the same from files
 * in memory.
 */
export async function loadCheckpoint<M extends TrainableModel = ShiftmixModel>(
  dir: string,
  options: LoadCheckpointOptions<M> = {},
): Promise<LoadedCheckpoint<M>> {
  return loadFrom(await directorySource(dir), options);
}
