import type { AnyMixerSpec, Mixer, MixerContext, MixerState, WeightInit } from '../contract.js';
import { addLayerNorm, biasGelu, dropout, layerNorm, linear, variableFrom } from '../layers.js';
import { ShiftmixError } from '../errors.js';
import type { Rng } from '../rng.js';
import { tf, type Tensor, type Tensor2D, type Tensor3D, type Variable } from '../tf.js';

/** One pre-norm Transformer block: x + Dropout(Mixer(LN(x))), then x + Dropout(FFN(LN(x))). */
export interface ModelBlock {
  index: number;
  mixerName: string;
  spec: AnyMixerSpec;
  /** The mixer's validated config (defaults filled in). */
  mixerConfig: Record<string, unknown>;
  mixer: Mixer;
  /** Shifts the core assigned to this block (empty unless shift-based). */
  shifts: number[];
  mixerParams: number;
  ffnWidth: number;
  /** The block's own weights: ln1, ln2, ffn (the mixer's are in `mixer.weights`). */
  ln1: { gamma: Variable; beta: Variable };
  ln2: { gamma: Variable; beta: Variable };
  ffn: { w1: Variable; b1: Variable; w2: Variable; b2: Variable };
}

export function createLayerNorm(dim: number, init: WeightInit): { gamma: Variable; beta: Variable } {
  return { gamma: variableFrom(init.ones([dim])), beta: variableFrom(init.zeros([dim])) };
}

export function createBlock(
  index: number,
  mixerName: string,
  spec: AnyMixerSpec,
  mixerConfig: Record<string, unknown>,
  ctx: MixerContext,
  ffnWidth: number,
): ModelBlock {
  const { init, dim } = ctx;
  // Creation order fixes which seeds each weight draws, so it must not change.
  const ln1 = createLayerNorm(dim, init);
  const mixerParams = spec.paramCount(ctx, mixerConfig);
  const mixer = spec.create(ctx, mixerConfig);
  const ln2 = createLayerNorm(dim, init);
  const ffn = {
    w1: variableFrom(init.normal([dim, ffnWidth])),
    b1: variableFrom(init.zeros([ffnWidth])),
    w2: variableFrom(init.outputProjection([ffnWidth, dim])),
    b2: variableFrom(init.zeros([dim])),
  };
  return { index, mixerName, spec, mixerConfig, mixer, shifts: [...ctx.shifts], mixerParams, ffnWidth, ln1, ln2, ffn };
}

/** The block's weights under stable names relative to "blocks.<i>.". */
export function blockWeights(block: ModelBlock): [string, Variable][] {
  const entries: [string, Variable][] = [
    ['ln1.gamma', block.ln1.gamma],
    ['ln1.beta', block.ln1.beta],
  ];
  for (const name of Object.keys(block.mixer.weights).sort()) entries.push([`mixer.${name}`, block.mixer.weights[name]]);
  entries.push(
    ['ln2.gamma', block.ln2.gamma],
    ['ln2.beta', block.ln2.beta],
    ['ffn.w1', block.ffn.w1],
    ['ffn.b1', block.ffn.b1],
    ['ffn.w2', block.ffn.w2],
    ['ffn.b2', block.ffn.b2],
  );
  return entries;
}

// The first bias goes into biasGelu (one fused kernel where the backend has it); the
// values are those of linear(x, w1, b1) then gelu.
function ffnForward(block: ModelBlock, x: Tensor): Tensor {
  const { w1, b1, w2, b2 } = block.ffn;
  return linear(biasGelu(linear(x, w1), b1), w2, b2);
}

export interface BlockRunOptions {
  training: boolean;
  dropout: number;
  rng: Rng;
}

/** x: [B, T, D] -> [B, T, D]. */
export function blockForward(block: ModelBlock, x: Tensor3D, opts: BlockRunOptions): Tensor3D {
  const drop = (t: Tensor): Tensor => (opts.training && opts.dropout > 0 ? dropout(t, opts.dropout, true, opts.rng.seed()) : t);
  const u = layerNorm(x, block.ln1.gamma, block.ln1.beta) as Tensor3D;
  const y = drop(checkMixerOutput(block, 'forward', u, block.mixer.forward(u, { training: opts.training })));
  // h = x + y and v = LN2(h): one kernel where the backend has it.
  const { sum: h, normed: v } = addLayerNorm(x, y, block.ln2.gamma, block.ln2.beta);
  return tf.add(h, drop(ffnForward(block, v))) as Tensor3D;
}

/**
 * A mixer must return its input's shape. Checked here, where the block and mixer are known,
 * so a plugin's mistake is named instead of surfacing as a broadcast error in the residual add.
 */
function checkMixerOutput<T extends Tensor>(block: ModelBlock, method: 'forward' | 'step', u: Tensor, y: T): T {
  const same = y.shape.length === u.shape.length && y.shape.every((n, i) => n === u.shape[i]);
  if (!same) {
    throw new ShiftmixError(
      `mixer "${block.mixerName}" (block ${block.index + 1}) returned [${y.shape.join(', ')}] from ${method} of [${u.shape.join(', ')}]`,
      `A mixer's ${method} returns its input's shape; fix the mixer, and run the conformance kit on it (describeMixerConformance)`,
      'E_MIXER_SHAPE',
    );
  }
  return y;
}

/** One decode step: x: [B, D] at the state's position -> [B, D] and the mixer's next state. */
export function blockStep(block: ModelBlock, x: Tensor2D, state: MixerState): { x: Tensor2D; state: MixerState } {
  const u = layerNorm(x, block.ln1.gamma, block.ln1.beta) as Tensor2D;
  const { y, state: next } = block.mixer.step(u, state);
  checkMixerOutput(block, 'step', u, y);
  const { sum: h, normed: v } = addLayerNorm(x, y, block.ln2.gamma, block.ln2.beta);
  return { x: tf.add(h, ffnForward(block, v)) as Tensor2D, state: next };
}

export function disposeBlock(block: ModelBlock): void {
  block.mixer.dispose();
  for (const [name, v] of blockWeights(block)) if (!name.startsWith('mixer.')) v.dispose();
}
