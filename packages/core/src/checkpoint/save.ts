import { writeDirectoryAtomically } from './atomic.js';
import { encodeCheckpoint, type CheckpointContents } from './encode.js';

export type { CheckpointContents } from './encode.js';

/**
 * Saves a checkpoint directory (config.json, weights.safetensors, tokenizer.json,
 * optimizer.safetensors, state.json), all or nothing: if any part fails, `dir` keeps
 * what it held before (see writeDirectoryAtomically). config.json records every other
 * file's size and SHA-256, so loading detects truncation and corruption. Weights or
 * moments that are not finite are refused (E_NONFINITE_WEIGHTS) and nothing is written.
 * The files are those `checkpointFiles` gives in memory, byte for byte.
 */
export async function saveCheckpoint(dir: string, contents: CheckpointContents): Promise<void> {
  await writeDirectoryAtomically(dir, encodeCheckpoint(contents, `checkpoint ${dir}`));
}
