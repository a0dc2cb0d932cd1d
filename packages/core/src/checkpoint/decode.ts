import { ShiftmixError } from '../errors.js';
import { ShiftmixModel } from '../model/model.js';
import { parseLayerPattern } from '../model/pattern.js';
import { isShippedSource, SHIPPED_MIXERS } from '../plugins/shipped.js';
import { listMixers } from '../registry.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import type { AdamWState, TrainRecipe, TrainableModel } from '../training-types.js';
import { describeNonFinite, findNonFinite } from './finite.js';
import {
  checkpointDamaged,
  FILES,
  MOMENT_PREFIX,
  parseJson,
  sha256Hex,
  validateConfig,
  validateState,
  type CheckpointConfig,
  type TrainState,
} from './format.js';
import { decodeSafetensors, type SafetensorsEntry } from './safetensors.js';

// Loading a checkpoint from wherever its files are: loadCheckpoint reads a directory,
// loadCheckpointFiles a map in memory (a browser, a web worker); both validate here, the
// same way, with the same errors. No Node module is reached from here.

export interface LoadCheckpointOptions<M extends TrainableModel> {
  /** Builds an untrained model from config.json's model config; defaults to ShiftmixModel.create. */
  createModel?: (config: Record<string, unknown>) => M;
  /** Also load the optimizer moments (needed to resume); refused on a weights-only checkpoint. */
  optimizer?: boolean;
}

export interface LoadedCheckpoint<M extends TrainableModel> {
  /** The directory it was loaded from (for loadCheckpointFiles, the name it was given). */
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

/** Where a checkpoint's files come from; `where` names the checkpoint in every error. */
export interface CheckpointSource {
  where: string;
  /** A file's bytes, or undefined when there is no such file (or it cannot be read). */
  read(name: string): Promise<Uint8Array | undefined>;
}

const utf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function readChecked(source: CheckpointSource, config: CheckpointConfig, name: string): Promise<Uint8Array> {
  const { where } = source;
  const record = config.files[name];
  const bytes = await source.read(name);
  if (!bytes) {
    throw new ShiftmixError(
      `checkpoint ${where} is missing ${name}, which its ${FILES.config} lists`,
      'Copy the whole checkpoint directory, or use another checkpoint',
      'E_CHECKPOINT',
    );
  }
  if (bytes.length !== record.bytes) {
    throw checkpointDamaged(
      where,
      `${name} has ${bytes.length} bytes, ${FILES.config} recorded ${record.bytes}${bytes.length < record.bytes ? ' (truncated)' : ''}`,
    );
  }
  if ((await sha256Hex(bytes)) !== record.sha256) {
    throw checkpointDamaged(where, `${name} is corrupt: its SHA-256 differs from the one ${FILES.config} recorded`);
  }
  return bytes;
}

function decode(where: string, name: string, bytes: Uint8Array): Record<string, SafetensorsEntry> {
  try {
    // A Buffer's slice() is a view, not a copy; a plain Uint8Array view makes the decoder copy each tensor.
    return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).tensors;
  } catch (error) {
    throw checkpointDamaged(where, `${name} cannot be read: ${(error as Error).message}`);
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
  where: string,
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
    return new ShiftmixError(`checkpoint ${where}: ${file} does not match the model its ${FILES.config} describes: ${what}`, fix, 'E_CHECKPOINT_MISMATCH');
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
function checkFinite(where: string, file: string, entries: Record<string, SafetensorsEntry>): void {
  for (const [name, entry] of Object.entries(entries)) {
    const bad = findNonFinite(entry.data as Float32Array);
    if (bad) {
      throw new ShiftmixError(
        `checkpoint ${where}: ${file} ${describeNonFinite(name, entry.data.length, bad)}`,
        file === FILES.weights
          ? "These weights are unusable (the run had diverged); use another checkpoint, e.g. the run's best/ or an earlier last/, or train again"
          : 'The optimizer state is unusable (the run had diverged); resume from another checkpoint, or start a new run from the weights',
        'E_CHECKPOINT_NONFINITE',
      );
    }
  }
}

/** config.json and state.json of a checkpoint, validated. */
export async function readInfoFrom(source: CheckpointSource): Promise<{ config: CheckpointConfig; state: TrainState }> {
  const { where } = source;
  const configBytes = await source.read(FILES.config);
  if (!configBytes) {
    throw new ShiftmixError(
      `checkpoint ${where} is missing ${FILES.config}`,
      'Give a directory written by shiftmix (it holds config.json, weights.safetensors, state.json)',
      'E_CHECKPOINT',
    );
  }
  const config = validateConfig(where, parseJson(where, FILES.config, utf8(configBytes)));
  for (const required of [FILES.weights, FILES.state]) {
    if (!config.files[required]) throw checkpointDamaged(where, `${FILES.config} lists no ${required}`);
  }
  const stateBytes = await readChecked(source, config, FILES.state);
  const state = validateState(where, parseJson(where, FILES.state, utf8(stateBytes)));
  return { config, state };
}

/** Loads and validates a checkpoint from `source`; see loadCheckpoint. */
export async function loadFrom<M extends TrainableModel>(source: CheckpointSource, options: LoadCheckpointOptions<M>): Promise<LoadedCheckpoint<M>> {
  const { where } = source;
  const { config, state } = await readInfoFrom(source);
  if (options.optimizer && !config.files[FILES.optimizer]) {
    throw new ShiftmixError(
      `checkpoint ${where} holds weights only (no ${FILES.optimizer}), so training cannot resume from it`,
      "Resume from the run's last/ checkpoint; best/ is kept for generation and export",
      'E_CHECKPOINT',
    );
  }
  const weightEntries = decode(where, FILES.weights, await readChecked(source, config, FILES.weights));
  const momentEntries = options.optimizer ? decode(where, FILES.optimizer, await readChecked(source, config, FILES.optimizer)) : undefined;
  const tokenizer = config.files[FILES.tokenizer] ? parseJson(where, FILES.tokenizer, utf8(await readChecked(source, config, FILES.tokenizer))) : undefined;

  const create = options.createModel ?? ((c: Record<string, unknown>) => ShiftmixModel.create(c as never) as unknown as M);
  const model = create(config.model);
  try {
    const weights = model.weights();
    checkAgainst(where, FILES.weights, weightEntries, weights, '', config.model.layers);
    checkFinite(where, FILES.weights, weightEntries);
    let optimizer: AdamWState | undefined;
    if (momentEntries) {
      const moments = Object.fromEntries(Object.entries(momentEntries).filter(([k]) => k.startsWith(MOMENT_PREFIX.m)));
      const velocities = Object.fromEntries(Object.entries(momentEntries).filter(([k]) => k.startsWith(MOMENT_PREFIX.v)));
      if (Object.keys(moments).length + Object.keys(velocities).length !== Object.keys(momentEntries).length) {
        throw checkpointDamaged(where, `${FILES.optimizer} holds tensors that are neither "m." nor "v." moments`);
      }
      checkAgainst(where, FILES.optimizer, moments, weights, MOMENT_PREFIX.m, config.model.layers);
      checkAgainst(where, FILES.optimizer, velocities, weights, MOMENT_PREFIX.v, config.model.layers);
      checkFinite(where, FILES.optimizer, momentEntries);
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
    return { dir: where, config, recipe: config.recipe, state, model, tokenizer, optimizer };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Loads a checkpoint from its files in memory, a map from file name to bytes (what
 * `checkpointFiles` gives, or a checkpoint directory's files read by a browser), with
 * everything `loadCheckpoint` checks and the same errors: files listed in config.json
 * present with their recorded size and SHA-256, format version, safetensors well formed,
 * names and shapes those of the model config.json describes, every weight (and moment)
 * finite. `name` stands for the directory in errors and in the result's `dir`.
 * Files config.json does not list are ignored.
 */
export async function loadCheckpointFiles<M extends TrainableModel = ShiftmixModel>(
  files: ReadonlyMap<string, Uint8Array>,
  options: LoadCheckpointOptions<M> & { name?: string } = {},
): Promise<LoadedCheckpoint<M>> {
  return loadFrom({ where: options.name ?? '(in memory)', read: async (file) => files.get(file) }, options);
}
