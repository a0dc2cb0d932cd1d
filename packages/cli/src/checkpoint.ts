import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadCheckpoint, selectBackend, tokenizerFromJSON, type BackendInfo, type BackendName, type ShiftmixModel, type Tokenizer } from '@shiftmix/core';
import type { Io } from './command.js';
import { InputError } from './errors.js';
import { requireDirectory } from './options.js';
import { loadAllPlugins, warnOn } from './plugins.js';
import { readRunInfo } from './run-info.js';

const CONFIG_FILE = 'config.json';

/**
 * The checkpoint a --checkpoint argument names: the directory itself when it holds
 * config.json, else a run directory's best/ (lowest validation loss), else its last/.
 */
export function resolveCheckpointDir(dir: string): string {
  for (const candidate of [dir, path.join(dir, 'best'), path.join(dir, 'last')]) {
    if (existsSync(path.join(candidate, CONFIG_FILE))) return candidate;
  }
  throw new InputError(
    `${dir} holds no checkpoint (no ${CONFIG_FILE}, best/ or last/)`,
    'Pass the --out directory of a shiftmix train run, or one of its best/ or last/ folders',
  );
}

/** The run directory a checkpoint belongs to, where run.json may say which plugins it used. */
function runDirOf(checkpointDir: string): string {
  const base = path.basename(checkpointDir);
  return base === 'best' || base === 'last' ? path.dirname(checkpointDir) : checkpointDir;
}

export interface OpenedCheckpoint {
  dir: string;
  model: ShiftmixModel;
  tokenizer: Tokenizer;
  backend: BackendInfo;
}

/**
 * Loads plugins (those the run was trained with, then --plugin), selects the backend and
 * loads the checkpoint with its tokenizer. The caller disposes the model.
 */
export async function openCheckpoint(flag: string, io: Io, options: { plugins: readonly string[]; backend: BackendName }): Promise<OpenedCheckpoint> {
  const dir = resolveCheckpointDir(requireDirectory(flag, io.cwd, '--checkpoint'));
  const runPlugins = readRunInfo(runDirOf(dir))?.plugins ?? [];
  await loadAllPlugins(io.cwd, [...runPlugins, ...options.plugins], warnOn(io));
  const backend = await selectBackend(options.backend);
  const loaded = await loadCheckpoint(dir);
  try {
    if (loaded.tokenizer === undefined) {
      throw new InputError(
        `checkpoint ${dir} has no tokenizer.json (it was trained on token files with no tokenizer beside them)`,
        'Put the tokenizer.json the files were made with beside them and train again, or use a checkpoint of shiftmix train on text',
      );
    }
    return { dir, model: loaded.model, tokenizer: await tokenizerFromJSON(loaded.tokenizer, path.join(dir, 'tokenizer.json')), backend };
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}
