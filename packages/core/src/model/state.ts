import type { MixerState } from '../contract.js';
import { ShiftmixError } from '../errors.js';
import type { Tensor } from '../tf.js';

/** Incremental decoding state of a whole model: one mixer state per block. */
export interface ModelState {
  /** Index of the next token to decode. */
  position: number;
  batch: number;
  mixers: MixerState[];
}

function stateTensors(state: ModelState): Tensor[] {
  return state.mixers.flatMap((m) => Object.values(m.tensors));
}

/**
 * Frees a decoding state. Pass the state that replaced it as `keep`: a mixer may carry a
 * tensor over unchanged into its next state, and that one must stay alive.
 */
export function disposeModelState(state: ModelState, keep?: ModelState): void {
  const kept = new Set(keep ? stateTensors(keep) : []);
  for (const t of stateTensors(state)) if (!kept.has(t) && !t.isDisposed) t.dispose();
}

export function checkTokens(tokens: Tensor, rank: 1 | 2, method: string): void {
  const expected = rank === 2 ? '[B, T]' : '[B]';
  if (!tokens || typeof tokens !== 'object' || !('dtype' in tokens)) {
    throw new ShiftmixError(`${method} needs a tensor of token ids ${expected}`, 'Pass tf.tensor(ids, shape, "int32")', 'E_INPUT');
  }
  if (tokens.rank !== rank || tokens.dtype !== 'int32') {
    throw new ShiftmixError(
      `${method} needs int32 token ids of shape ${expected}, got ${tokens.dtype} [${tokens.shape.join(', ')}]`,
      `Pass tf.tensor(ids, shape, "int32") with rank ${rank}`,
      'E_INPUT',
    );
  }
  if (tokens.shape.some((n) => n === 0)) {
    throw new ShiftmixError(`${method} got an empty batch [${tokens.shape.join(', ')}]`, 'Pass at least one token per sequence', 'E_INPUT');
  }
}
