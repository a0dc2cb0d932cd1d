import { ShiftmixError } from '../errors.js';
import type { TrainRecipe } from '../training-types.js';

export const CHECKPOINT_FORMAT = 'shiftmix-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;

export const FILES = {
  config: 'config.json',
  weights: 'weights.safetensors',
  tokenizer: 'tokenizer.json',
  optimizer: 'optimizer.safetensors',
  state: 'state.json',
} as const;

/** Optimizer moments as one file: "m.<weight>" and "v.<weight>", the step in the metadata. */
export const MOMENT_PREFIX = { m: 'm.', v: 'v.' } as const;

/** Size and SHA-256 of a file, recorded in config.json so damage is found before use. */
export interface FileRecord {
  bytes: number;
  sha256: string;
}

/** config.json: what the checkpoint is and how to rebuild the model. */
export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  /** The model config, as `createModel` takes it. */
  model: Record<string, unknown>;
  recipe?: TrainRecipe;
  params: number;
  /** Every other file of the checkpoint. */
  files: Record<string, FileRecord>;
}

/** state.json: where the run stands, so a resumed run draws the same numbers. */
export interface TrainState {
  /** Optimizer steps taken (the step the checkpoint was saved after). */
  step: number;
  /** State of the model's Rng (dropout seeds). */
  modelRng: number;
  /** State of the trainer's batch-sampling Rng. */
  dataRng: number;
  bestValLoss: number | null;
  /** Byte length of metrics.jsonl when this checkpoint was saved; a resume truncates to it. */
  metricsBytes: number;
  /** Seconds of training so far. */
  elapsed: number;
}

/**
 * SHA-256 of `bytes` in hex, through WebCrypto (Node 20 and browsers alike), so the
 * in-memory checkpoint path reaches no Node module.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto refuses views of shared memory; slice() copies into an ArrayBuffer of its own.
  const plain = (bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', plain));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

export function checkpointDamaged(dir: string, what: string): ShiftmixError {
  return new ShiftmixError(
    `checkpoint ${dir}: ${what}`,
    'The checkpoint is damaged or was not written by shiftmix; use another checkpoint (e.g. best/ instead of last/)',
    'E_CHECKPOINT',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(dir: string, file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw checkpointDamaged(dir, `${file} is not valid JSON (${(error as Error).message})`);
  }
}

export function validateConfig(dir: string, value: unknown): CheckpointConfig {
  if (!isObject(value) || value.format !== CHECKPOINT_FORMAT) {
    throw checkpointDamaged(dir, `${FILES.config} does not describe a shiftmix checkpoint (no "format": "${CHECKPOINT_FORMAT}")`);
  }
  if (value.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    const newer = typeof value.formatVersion === 'number' && value.formatVersion > CHECKPOINT_FORMAT_VERSION;
    throw new ShiftmixError(
      `checkpoint ${dir} has format version ${JSON.stringify(value.formatVersion)}, this shiftmix reads version ${CHECKPOINT_FORMAT_VERSION}`,
      newer ? 'Upgrade shiftmix to load it' : 'Load it with the shiftmix version that wrote it and save it again',
      'E_CHECKPOINT_VERSION',
    );
  }
  if (!isObject(value.model)) throw checkpointDamaged(dir, `${FILES.config} has no "model" object`);
  if (!isObject(value.files)) throw checkpointDamaged(dir, `${FILES.config} has no "files" table`);
  for (const [name, record] of Object.entries(value.files)) {
    if (!isObject(record) || typeof record.bytes !== 'number' || typeof record.sha256 !== 'string') {
      throw checkpointDamaged(dir, `${FILES.config} has a bad entry for ${name}`);
    }
  }
  return value as unknown as CheckpointConfig;
}

export function validateState(dir: string, value: unknown): TrainState {
  if (!isObject(value)) throw checkpointDamaged(dir, `${FILES.state} is not an object`);
  const int = (key: keyof TrainState) => {
    const v = value[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw checkpointDamaged(dir, `${FILES.state} field "${key}" is ${JSON.stringify(v)}, not a whole number`);
  };
  int('step');
  int('modelRng');
  int('dataRng');
  int('metricsBytes');
  if (typeof value.elapsed !== 'number' || !(value.elapsed >= 0)) throw checkpointDamaged(dir, `${FILES.state} field "elapsed" is not a number`);
  if (value.bestValLoss !== null && typeof value.bestValLoss !== 'number') {
    throw checkpointDamaged(dir, `${FILES.state} field "bestValLoss" is ${JSON.stringify(value.bestValLoss)}`);
  }
  return value as unknown as TrainState;
}
