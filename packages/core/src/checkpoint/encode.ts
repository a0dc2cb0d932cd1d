import type { Tensor, Variable } from '../tf.js';
import type { AdamWState, SerializableTokenizer, TrainRecipe } from '../training-types.js';
import { ShiftmixError } from '../errors.js';
import { describeNonFinite, findNonFinite } from './finite.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  FILES,
  MOMENT_PREFIX,
  sha256Hex,
  type CheckpointConfig,
  type FileRecord,
  type TrainState,
} from './format.js';
import { encodeSafetensors, type SafetensorsEntry } from './safetensors.js';

// A checkpoint's files as bytes, without a file system: saveCheckpoint writes what this
// produces, and checkpointFiles hands it to a browser or a web worker. No Node module is
// reached from here (hashes through WebCrypto, text through TextEncoder).

/** What a checkpoint holds; without `optimizer` it holds weights only and cannot be resumed. */
export interface CheckpointContents {
  model: { readonly config: object; weights(): Map<string, Variable> };
  tokenizer?: SerializableTokenizer;
  recipe?: TrainRecipe;
  optimizer?: AdamWState;
  state: TrainState;
}

/** `label` names the checkpoint in the refusal ("checkpoint runs/hsm/last", "the checkpoint"). */
async function toEntries(label: string, tensors: Iterable<[string, Tensor]>): Promise<Record<string, SafetensorsEntry>> {
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of tensors) {
    // data() rather than dataSync(): on a GPU backend the download does not block the thread.
    const values = (await t.data()) as Float32Array;
    // Loading refuses them, so saving them would only replace a usable checkpoint with an unusable one.
    const bad = findNonFinite(values);
    if (bad) {
      throw new ShiftmixError(
        `${describeNonFinite(name, values.length, bad)}, so ${label} was not written`,
        'The model diverged; keep the previous checkpoint and train on from it with a lower learning rate',
        'E_NONFINITE_WEIGHTS',
      );
    }
    entries[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(values) };
  }
  return entries;
}

/**
 * The files of a checkpoint, one at a time, in the order they are written: weights,
 * optimizer moments, tokenizer, state, and config.json last, which records every other
 * file's size and SHA-256. One file's bytes at a time, so a writer needs no more memory.
 */
export async function* encodeCheckpoint(contents: CheckpointContents, label: string): AsyncGenerator<[string, Uint8Array]> {
  const records: Record<string, FileRecord> = {};
  const recorded = async (name: string, content: Uint8Array | string): Promise<[string, Uint8Array]> => {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    records[name] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    return [name, bytes];
  };
  const weights = contents.model.weights();
  yield await recorded(FILES.weights, encodeSafetensors(await toEntries(label, weights)));
  const { optimizer, tokenizer } = contents;
  if (optimizer) {
    const prefixed: [string, Tensor][] = [
      ...[...optimizer.m].map(([name, t]): [string, Tensor] => [MOMENT_PREFIX.m + name, t]),
      ...[...optimizer.v].map(([name, t]): [string, Tensor] => [MOMENT_PREFIX.v + name, t]),
    ];
    yield await recorded(FILES.optimizer, encodeSafetensors(await toEntries(label, prefixed), { step: String(optimizer.step) }));
  }
  if (tokenizer) yield await recorded(FILES.tokenizer, `${JSON.stringify(tokenizer.toJSON())}\n`);
  yield await recorded(FILES.state, `${JSON.stringify(contents.state, null, 2)}\n`);
  let params = 0;
  for (const v of weights.values()) params += v.size;
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    model: contents.model.config as Record<string, unknown>,
    recipe: contents.recipe,
    params,
    files: records,
  };
  yield [FILES.config, new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`)];
}

/**
 * A checkpoint as a map from file name to bytes: exactly the files, names and bytes, that
 * `saveCheckpoint` writes into its directory (config.json, weights.safetensors and
 * state.json, and tokenizer.json and optimizer.safetensors when the contents have them).
 * For a browser or a web worker, where there is no directory to write: offer the files
 * as a download, and `loadCheckpointFiles` reads them back. Weights or moments that are
 * not finite are refused (E_NONFINITE_WEIGHTS).
 */
export async function checkpointFiles(contents: CheckpointContents): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const [name, bytes] of encodeCheckpoint(contents, 'the checkpoint')) files.set(name, bytes);
  return files;
}
