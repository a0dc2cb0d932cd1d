import { createHash } from 'node:crypto';
import type { Tensor, Variable } from '../tf.js';
import type { AdamWState, SerializableTokenizer, TrainRecipe } from '../training-types.js';
import { ShiftmixError } from '../errors.js';
import { writeDirectoryAtomically, type PendingFile } from './atomic.js';
import { describeNonFinite, findNonFinite } from './finite.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, FILES, type CheckpointConfig, type FileRecord, type TrainState } from './format.js';
import { encodeSafetensors, type SafetensorsEntry } from './safetensors.js';

/** What a checkpoint holds; without `optimizer` it holds weights only and cannot be resumed. */
export interface CheckpointContents {
  model: { readonly config: object; weights(): Map<string, Variable> };
  tokenizer?: SerializableTokenizer;
  recipe?: TrainRecipe;
  optimizer?: AdamWState;
  state: TrainState;
}

async function toEntries(dir: string, tensors: Iterable<[string, Tensor]>): Promise<Record<string, SafetensorsEntry>> {
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of tensors) {
    // data() rather than dataSync(): on a GPU backend the download does not block the thread.
    const values = (await t.data()) as Float32Array;
    // Loading refuses them, so saving them would only replace a usable checkpoint with an unusable one.
    const bad = findNonFinite(values);
    if (bad) {
      throw new ShiftmixError(
        `${describeNonFinite(name, values.length, bad)}, so checkpoint ${dir} was not written`,
        'The model diverged; keep the previous checkpoint and train on from it with a lower learning rate',
        'E_NONFINITE_WEIGHTS',
      );
    }
    entries[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(values) };
  }
  return entries;
}

/** Optimizer moments as one file: "m.<weight>" and "v.<weight>", the step in the metadata. */
export const MOMENT_PREFIX = { m: 'm.', v: 'v.' } as const;

/**
 * Saves a checkpoint directory (config.json, weights.safetensors, tokenizer.json,
 * optimizer.safetensors, state.json), all or nothing: if any part fails, `dir` keeps
 * what it held before (see writeDirectoryAtomically). config.json records every other
 * file's size and SHA-256, so loading detects truncation and corruption. Weights or
 * moments that are not finite are refused (E_NONFINITE_WEIGHTS) and nothing is written.
 */
export async function saveCheckpoint(dir: string, contents: CheckpointContents): Promise<void> {
  const records: Record<string, FileRecord> = {};
  const recorded = (name: string, produce: () => Promise<Uint8Array | string>): PendingFile => ({
    name,
    content: async () => {
      const content = await produce();
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      records[name] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
      return bytes;
    },
  });
  const weights = contents.model.weights();
  const files: PendingFile[] = [recorded(FILES.weights, async () => encodeSafetensors(await toEntries(dir, weights)))];
  const { optimizer, tokenizer } = contents;
  if (optimizer) {
    files.push(
      recorded(FILES.optimizer, async () => {
        const prefixed: [string, Tensor][] = [
          ...[...optimizer.m].map(([name, t]): [string, Tensor] => [MOMENT_PREFIX.m + name, t]),
          ...[...optimizer.v].map(([name, t]): [string, Tensor] => [MOMENT_PREFIX.v + name, t]),
        ];
        return encodeSafetensors(await toEntries(dir, prefixed), { step: String(optimizer.step) });
      }),
    );
  }
  if (tokenizer) files.push(recorded(FILES.tokenizer, async () => `${JSON.stringify(tokenizer.toJSON())}\n`));
  files.push(recorded(FILES.state, async () => `${JSON.stringify(contents.state, null, 2)}\n`));
  files.push({
    name: FILES.config,
    content: async () => {
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
      return `${JSON.stringify(config, null, 2)}\n`;
    },
  });
  await writeDirectoryAtomically(dir, files);
}
