import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ShiftmixError } from '../errors.js';
import { ShiftmixModel } from '../model/model.js';
import { parseLayerPattern } from '../model/pattern.js';
import { isShippedSource, SHIPPED_MIXERS } from '../plugins/shipped.js';
import { listMixers } from '../registry.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import type { AdamWState, TrainRecipe, TrainableModel } from '../training-types.js';
import { recoverInterrupted } from './atomic.js';
import { checkpointDamaged, FILES, parseJson, validateConfig, validateState, type CheckpointConfig, type TrainState } from './format.js';
import { describeNonFinite, findNonFinite } from './finite.js';
import { decodeSafetensors, type SafetensorsEntry } from './safetensors.js';
import { MOMENT_PREFIX } from './save.js';

export interface LoadCheckpointOptions<M extends TrainableModel> {
  /** Builds an untrained model from config.json's model config; defaults to ShiftmixModel.create. */
  createModel?: (config: Record<string, unknown>) => M;
  /** Also load the optimizer moments (needed to resume); refused on a weights-only checkpoint. */
  optimizer?: boolean;
}

export interface LoadedCheckpoint<M extends TrainableModel> {
  dir: string;
  config: CheckpointConfig;
  recipe?: TrainRecipe;
  state: TrainState;
  /** The model with the checkpoint's weights and dropout Rng state; the caller disposes it. */
  model: M;
  /** tokenizer.json as saved (`CharTokenizer.fromJSON` takes it), when the checkpoint has one. */
  tokenizer?: unknown;
  /** The optimizer moments when asked for; the caller disposes the tensors (or hands them to AdamW.setState). */
  optimizer?: AdamWState;
}

async function readChecked(dir: string, config: CheckpointConfig, name: string): Promise<Buffer> {
  const record = config.files[name];
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, name));
  } catch {
    throw new ShiftmixError(
      `checkpoint ${dir} is missing ${name}, which its ${FILES.config} lists`,
      'Copy the whole checkpoint directory, or use another checkpoint',
      'E_CHECKPOINT',
    );
  }
  if (bytes.length !== record.bytes) {
    throw checkpointDamaged(
      dir,
      `${name} has ${bytes.length} bytes, ${FILES.config} recorded ${record.bytes}${bytes.length < record.bytes ? ' (truncated)' : ''}`,
    );
  }
  if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) {
    throw checkpointDamaged(dir, `${name} is corrupt: its SHA-256 differs from the one ${FILES.config} recorded`);
  }
  return bytes;
}

function decode(dir: string, name: string, bytes: Uint8Array): Record<string, SafetensorsEntry> {
  try {
    // A Buffer's slice() is a view, not a copy; a plain Uint8Array view makes the decoder copy each tensor.
    return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).tensors;
  } catch (error) {
    throw checkpointDamaged(dir, `${name} cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Shipped mixer names of `layers` that a plugin registered in place of the shipped package:
 * the likely cause when a checkpoint's weights do not fit the model built from its config.
 */
function replacedShippedMixers(layers: unknown): { name: string; source: string; shipped: string }[] {
  if (typeof layers !== 'string') return [];
  let names: string[];
  try {
    names = [...new Set(parseLayerPattern(layers, { checkRegistry: false }))];
  } catch {
    return [];
  }
  const sources = new Map(listMixers().map((m) => [m.spec.name, m.source]));
  return names.flatMap((name) => {
    const shipped = (SHIPPED_MIXERS as Record<string, string>)[name];
    const source = sources.get(name);
    return shipped && !isShippedSource(name, source) ? [{ name, source: source ?? 'a registerMixer call', shipped }] : [];
  });
}

/** Names and shapes of `entries` must be exactly those of `weights`; the error names the first difference. */
function checkAgainst(
  dir: string,
  file: string,
  entries: Record<string, SafetensorsEntry>,
  weights: Map<string, Variable>,
  prefix = '',
  layers?: unknown,
): void {
  const mismatch = (what: string) => {
    const [replaced] = replacedShippedMixers(layers);
    const fix = replaced
      ? `Mixer "${replaced.name}" is registered from ${replaced.source} in place of the shipped ${replaced.shipped}; load this checkpoint without that plugin, or with the mixer it was trained with`
      : 'The config.json and the weights come from different models; restore the original config.json or use another checkpoint';
    return new ShiftmixError(`checkpoint ${dir}: ${file} does not match the model its ${FILES.config} describes: ${what}`, fix, 'E_CHECKPOINT_MISMATCH');
  };
  for (const [name, v] of weights) {
    const entry = entries[prefix + name];
    if (!entry) throw mismatch(`no tensor "${prefix + name}"`);
    if (entry.dtype !== 'F32') throw mismatch(`"${prefix + name}" is ${entry.dtype}, expected F32`);
    if (!tf.util.arraysEqual(entry.shape, v.shape)) throw mismatch(`"${prefix + name}" has shape [${entry.shape}], the model needs [${v.shape}]`);
  }
  // `entries` holds only keys with `prefix` (the caller splits the optimizer file by moment).
  for (const key of Object.keys(entries)) {
    if (!weights.has(key.slice(prefix.length))) throw mismatch(`unexpected tensor "${key}"`);
  }
}

/**
 * Weights or moments that are not finite would make every loss NaN and every export
 * useless, even when the file is intact (its SHA-256 matches): a diverged model saved by
 * other tools, or edited. They are refused, naming the tensor.
 */
function checkFinite(dir: string, file: string, entries: Record<string, SafetensorsEntry>): void {
  for (const [name, entry] of Object.entries(entries)) {
    const bad = findNonFinite(entry.data as Float32Array);
    if (bad) {
      throw new ShiftmixError(
        `checkpoint ${dir}: ${file} ${describeNonFinite(name, entry.data.length, bad)}`,
        file === FILES.weights
          ? "These weights are unusable (the run had diverged); use another checkpoint, e.g. the run's best/ or an earlier last/, or train again"
          : 'The optimizer state is unusable (the run had diverged); resume from another checkpoint, or start a new run from the weights',
        'E_CHECKPOINT_NONFINITE',
      );
    }
  }
}

/** Reads config.json and state.json only: enough to describe a checkpoint without loading it. */
export async function readCheckpointInfo(dir: string): Promise<{ config: CheckpointConfig; state: TrainState }> {
  await recoverInterrupted(dir);
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists)
    throw new ShiftmixError(`no checkpoint directory at ${dir}`, 'Give the directory that holds config.json (e.g. <run>/last or <run>/best)', 'E_CHECKPOINT');
  let text: string;
  try {
    text = await readFile(join(dir, FILES.config), 'utf8');
  } catch {
    throw new ShiftmixError(
      `checkpoint ${dir} is missing ${FILES.config}`,
      'Give a directory written by shiftmix (it holds config.json, weights.safetensors, state.json)',
      'E_CHECKPOINT',
    );
  }
  const config = validateConfig(dir, parseJson(dir, FILES.config, text));
  for (const required of [FILES.weights, FILES.state]) {
    if (!config.files[required]) throw checkpointDamaged(dir, `${FILES.config} lists no ${required}`);
  }
  const stateBytes = await readChecked(dir, config, FILES.state);
  const state = validateState(dir, parseJson(dir, FILES.state, stateBytes.toString('utf8')));
  return { config, state };
}

/**
 * Loads and validates a checkpoint: format version, every file present and matching its
 * recorded size and SHA-256, safetensors well formed, names and shapes equal to those
 * of the model that config.json describes, and every weight (and moment) finite. Any
 * problem is a ShiftmixError naming it.
 */
export async function loadCheckpoint<M extends TrainableModel = ShiftmixModel>(
  dir: string,
  options: LoadCheckpointOptions<M> = {},
): Promise<LoadedCheckpoint<M>> {
  const { config, state } = await readCheckpointInfo(dir);
  if (options.optimizer && !config.files[FILES.optimizer]) {
    throw new ShiftmixError(
      `checkpoint ${dir} holds weights only (no ${FILES.optimizer}), so training cannot resume from it`,
      "Resume from the run's last/ checkpoint; best/ is kept for generation and export",
      'E_CHECKPOINT',
    );
  }
  const weightEntries = decode(dir, FILES.weights, await readChecked(dir, config, FILES.weights));
  const momentEntries = options.optimizer ? decode(dir, FILES.optimizer, await readChecked(dir, config, FILES.optimizer)) : undefined;
  const tokenizer = config.files[FILES.tokenizer]
    ? parseJson(dir, FILES.tokenizer, (await readChecked(dir, config, FILES.tokenizer)).toString('utf8'))
    : undefined;

  const create = options.createModel ?? ((c: Record<string, unknown>) => ShiftmixModel.create(c as never) as unknown as M);
  const model = create(config.model);
  try {
    const weights = model.weights();
    checkAgainst(dir, FILES.weights, weightEntries, weights, '', config.model.layers);
    checkFinite(dir, FILES.weights, weightEntries);
    let optimizer: AdamWState | undefined;
    if (momentEntries) {
      const moments = Object.fromEntries(Object.entries(momentEntries).filter(([k]) => k.startsWith(MOMENT_PREFIX.m)));
      const velocities = Object.fromEntries(Object.entries(momentEntries).filter(([k]) => k.startsWith(MOMENT_PREFIX.v)));
      if (Object.keys(moments).length + Object.keys(velocities).length !== Object.keys(momentEntries).length) {
        throw checkpointDamaged(dir, `${FILES.optimizer} holds tensors that are neither "m." nor "v." moments`);
      }
      checkAgainst(dir, FILES.optimizer, moments, weights, MOMENT_PREFIX.m, config.model.layers);
      checkAgainst(dir, FILES.optimizer, velocities, weights, MOMENT_PREFIX.v, config.model.layers);
      checkFinite(dir, FILES.optimizer, momentEntries);
      const toMap = (prefix: string) => {
        const map = new Map<string, Tensor>();
        for (const [name, v] of weights) map.set(name, tf.tensor(momentEntries[prefix + name].data as Float32Array, v.shape, 'float32'));
        return map;
      };
      optimizer = { step: state.step, m: toMap(MOMENT_PREFIX.m), v: toMap(MOMENT_PREFIX.v) };
    }
    for (const [name, v] of weights) {
      tf.tidy(() => v.assign(tf.tensor(weightEntries[name].data as Float32Array, v.shape, 'float32')));
    }
    model.rng.state = state.modelRng;
    return { dir, config, recipe: config.recipe, state, model, tokenizer, optimizer };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
