import type { AnyMixerSpec, MixerContext, MixerState } from '../contract.js';
import { isShiftmixError, ShiftmixError } from '../errors.js';
import { createWeightInit } from '../init.js';
import { embed, layerNorm } from '../layers.js';
import { crossEntropy } from '../kernels/cross-entropy.js';
import { getMixer } from '../registry.js';
import { Rng } from '../rng.js';
import { computeShiftSchedule } from '../schedule.js';
import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor3D, type Variable } from '../tf.js';
import { blockForward, blockStep, blockWeights, createBlock, createLayerNorm, disposeBlock, type ModelBlock } from './block.js';
import { variableFrom } from '../layers.js';
import { matchedFfnWidth, parseLayerParts, resolveModelConfig, type ModelConfig } from './config.js';
import { checkTokens, disposeModelState, type ModelState } from './state.js';
import { trainingFootprint, type TrainingFootprint } from './footprint.js';
import { preflightMixers } from './preflight.js';

// Offsets the dropout stream from the init stream so the two never draw the same seeds.
const DROPOUT_STREAM = 0x6a09e667;

/**
 * Validates one block's options (the per-name options with the pattern's own on top).
 * Errors name the block, since two blocks of one mixer may have different options.
 */
function validateLayer(spec: AnyMixerSpec, options: Record<string, unknown>, ctx: MixerContext, layers: string): Record<string, unknown> {
  try {
    return spec.validate(options, ctx) as Record<string, unknown>;
  } catch (error) {
    if (!isShiftmixError(error)) throw error;
    throw new ShiftmixError(`${error.problem} (block ${ctx.layerIndex + 1} of the layer pattern "${layers}")`, error.fix, error.code);
  }
}

/**
 * Everything `create` decides before it makes a tensor: the resolved config, the shift
 * schedule, and each block's spec, context and validated options.
 */
function planModel(input: Partial<ModelConfig> & { vocabSize: number }) {
  const config = resolveModelConfig(input);
  const parts = parseLayerParts(config.layers);
  const specs = parts.map((part) => getMixer(part.name));
  const numLayers = parts.length;
  const numShift = specs.filter((s) => s.shiftBased).length;
  const { shifts, warnings } = computeShiftSchedule(config.schedule, numShift, config.contextLength, config.dim);
  const positional: 'learned' | 'none' = config.positional === 'auto' ? (specs.every((s) => s.shiftBased) ? 'none' : 'learned') : config.positional;
  const init = createWeightInit(new Rng(config.seed), numLayers);
  const rng = new Rng((config.seed + DROPOUT_STREAM) >>> 0);
  let shiftIndex = 0;
  const layers = specs.map((spec, i) => {
    const ctx: MixerContext = {
      dim: config.dim,
      heads: config.heads,
      contextLength: config.contextLength,
      layerIndex: i,
      numLayers,
      shifts: spec.shiftBased ? shifts[shiftIndex++] : [],
      dropout: config.dropout,
      init,
      rng,
    };
    return { spec, ctx, mixerConfig: validateLayer(spec, { ...config.mixers[spec.name], ...parts[i].options }, ctx, config.layers) };
  });
  return { config, layers, warnings, positional, init, rng };
}

/**
 * A pre-norm Transformer stack: token embedding (plus learned positions
 * when configured), one mixer + FFN block per entry of the layer pattern, final layer
 * norm, and an LM head tied to the token embedding.
 */
export class ShiftmixModel {
  readonly config: ModelConfig;
  /** Draws dropout seeds; store `rng.state` in a checkpoint to resume the same masks. */
  readonly rng: Rng;
  readonly scheduleWarnings: string[];
  /** "learned" or "none": `positional: "auto"` resolved against the layers. */
  readonly positional: 'learned' | 'none';
  readonly blocks: readonly ModelBlock[];
  /**
   * Longest sequence the model can process, in forward or step by step: the context
   * length when it has learned positions or a mixer that is not shift-based (an
   * attention KV cache), unbounded for pure shift stacks, whose ring buffers are fixed.
   */
  readonly maxSequenceLength: number;
  private readonly wte: Variable;
  private readonly wpe: Variable | null;
  private readonly lnf: { gamma: Variable; beta: Variable };
  private disposed = false;

  private constructor(parts: {
    config: ModelConfig;
    rng: Rng;
    scheduleWarnings: string[];
    positional: 'learned' | 'none';
    blocks: ModelBlock[];
    wte: Variable;
    wpe: Variable | null;
    lnf: { gamma: Variable; beta: Variable };
  }) {
    this.config = parts.config;
    this.rng = parts.rng;
    this.scheduleWarnings = parts.scheduleWarnings;
    this.positional = parts.positional;
    this.blocks = parts.blocks;
    this.wte = parts.wte;
    this.wpe = parts.wpe;
    this.lnf = parts.lnf;
    const bounded = parts.positional === 'learned' || parts.blocks.some((b) => !b.spec.shiftBased);
    this.maxSequenceLength = bounded ? parts.config.contextLength : Number.POSITIVE_INFINITY;
  }

  /**
   * Resolves a config and validates every block's mixer options, as `create` does, without
   * creating weights: what a tool checks before it loads data or selects a backend. The
   * vocabulary may be left out (it is often known only from the data); 2 stands in for it.
   */
  static check(input: Partial<ModelConfig>): ModelConfig {
    return planModel({ ...input, vocabSize: input.vocabSize ?? 2 }).config;
  }

  /**
   * Parameters and a lower bound on the memory training takes at `batch` sequences per step,
   * without creating weights; `checkTrainingFits` compares it with what a machine has.
   */
  static footprint(input: Partial<ModelConfig> & { vocabSize: number }, batch: number): TrainingFootprint {
    const { config, layers, positional } = planModel(input);
    const blocks = layers.map(({ spec, ctx, mixerConfig }) => {
      const mixerParams = spec.paramCount(ctx, mixerConfig);
      return { mixerParams, ffnWidth: config.ffn === 'match' ? matchedFfnWidth(config.dim, mixerParams) : config.ffn };
    });
    return trainingFootprint({ ...config, learnedPositions: positional === 'learned' }, blocks, batch);
  }

  /** Builds a model with fresh weights; every mixer named in the pattern must be registered. */
  static create(input: Partial<ModelConfig> & { vocabSize: number }): ShiftmixModel {
    const { config, layers, warnings, positional, init, rng } = planModel(input);
    const created: { dispose(): void }[] = [];
    try {
      const wte = variableFrom(init.normal([config.vocabSize, config.dim]));
      created.push(wte);
      const wpe = positional === 'learned' ? variableFrom(init.normal([config.contextLength, config.dim])) : null;
      if (wpe) created.push(wpe);
      const blocks: ModelBlock[] = [];
      for (const [i, { spec, ctx, mixerConfig }] of layers.entries()) {
        const ffnWidth = config.ffn === 'match' ? matchedFfnWidth(config.dim, spec.paramCount(ctx, mixerConfig)) : config.ffn;
        const block = createBlock(i, spec.name, spec, mixerConfig, ctx, ffnWidth);
        blocks.push(block);
        created.push({ dispose: () => disposeBlock(block) });
      }
      const lnf = createLayerNorm(config.dim, init);
      return new ShiftmixModel({ config, rng, scheduleWarnings: warnings, positional, blocks, wte, wpe, lnf });
    } catch (error) {
      for (const item of created) item.dispose();
      throw error;
    }
  }

  /** Every trainable weight under a stable name, in a stable order. */
  weights(): Map<string, Variable> {
    this.checkAlive();
    const map = new Map<string, Variable>([['wte', this.wte]]);
    if (this.wpe) map.set('wpe', this.wpe);
    for (const block of this.blocks) {
      for (const [name, v] of blockWeights(block)) map.set(`blocks.${block.index}.${name}`, v);
    }
    map.set('lnf.gamma', this.lnf.gamma);
    map.set('lnf.beta', this.lnf.beta);
    return map;
  }

  paramCount(): number {
    let total = 0;
    for (const v of this.weights().values()) total += v.size;
    return total;
  }

  /** tokens: int32 [B, T] -> logits [B, T, V]. */
  forward(tokens: Tensor2D, opts: { training: boolean }): Tensor3D {
    this.checkAlive();
    checkTokens(tokens, 2, 'forward');
    const [batch, length] = tokens.shape;
    if (length > this.maxSequenceLength) {
      throw new ShiftmixError(
        `forward got ${length} tokens per sequence, but this model supports at most ${this.maxSequenceLength} (its contextLength)`,
        'Pass at most contextLength tokens, or build the model with a larger contextLength',
        'E_CONTEXT',
      );
    }
    return tf.tidy(() => {
      let x = embed(this.wte, tokens) as Tensor3D; // [B, T, D]
      if (this.wpe) x = tf.add(x, this.wpe.slice([0, 0], [length, this.config.dim])) as Tensor3D;
      const run = { training: opts.training, dropout: this.config.dropout, rng: this.rng };
      for (const block of this.blocks) x = blockForward(block, x, run);
      return this.head(x).reshape([batch, length, this.config.vocabSize]) as Tensor3D;
    });
  }

  /**
   * Mean cross-entropy in nats of `targets` under the logits of `tokens`, both int32
   * [B, T]. Targets below 0 are ignored (e.g. unqueried positions); the mean is over the rest
   * (see crossEntropy, which also says what a target >= V does).
   */
  loss(tokens: Tensor2D, targets: Tensor2D, opts: { training: boolean }): tf.Scalar {
    if (!targets || targets.dtype !== 'int32' || targets.shape.join() !== tokens.shape.join()) {
      throw new ShiftmixError(
        `loss targets must be an int32 tensor of the tokens' shape [${tokens.shape.join(', ')}], got ${targets ? `${targets.dtype} [${targets.shape.join(', ')}]` : 'nothing'}`,
        'Pass targets as tf.tensor2d(ids, [B, T], "int32"), the tokens shifted by one',
        'E_INPUT',
      );
    }
    return tf.tidy(() => {
      const logits = this.forward(tokens, opts).reshape([-1, this.config.vocabSize]) as Tensor2D; // [N, V], N = B*T
      return crossEntropy(logits, targets.reshape([-1]) as Tensor1D);
    });
  }

  /** A fresh decoding state for `batch` sequences at position 0. */
  initState(batch: number): ModelState {
    this.checkAlive();
    if (!Number.isInteger(batch) || batch < 1) {
      throw new ShiftmixError(`initState needs a batch size >= 1, got ${batch}`, 'Pass the number of sequences to decode', 'E_INPUT');
    }
    return { position: 0, batch, mixers: this.blocks.map((b) => b.mixer.initState(batch)) };
  }

  /**
   * Decodes one token per sequence: tokens int32 [B] at `state.position` -> logits
   * [B, V] and the next state. Like a mixer's step it never disposes the given state;
   * free it with `disposeModelState(old, next)`.
   */
  step(tokens: Tensor1D, state: ModelState): { logits: Tensor2D; state: ModelState } {
    this.checkAlive();
    checkTokens(tokens, 1, 'step');
    if (!state || !Array.isArray(state.mixers) || state.mixers.length !== this.blocks.length) {
      throw new ShiftmixError(
        'step was given a state that does not belong to this model',
        'Start from model.initState(batch) and pass each returned state to the next step',
        'E_STATE',
      );
    }
    if (tokens.shape[0] !== state.batch) {
      throw new ShiftmixError(`step got ${tokens.shape[0]} tokens for a state of batch ${state.batch}`, 'Pass one token per sequence of the state', 'E_STATE');
    }
    const position = state.position;
    if (position >= this.maxSequenceLength) {
      throw new ShiftmixError(
        `decoding position ${position} is past the ${this.maxSequenceLength} positions this model supports (learned positions or an attention cache stop at contextLength)`,
        'Generate fewer tokens or shorten the prompt; stacks of shift-based mixers without learned positions decode without this limit',
        'E_CONTEXT',
      );
    }
    const out = tf.tidy(() => {
      let x = tf.gather(this.wte, tokens) as Tensor2D; // [B, D]
      if (this.wpe) x = tf.add(x, this.wpe.slice([position, 0], [1, this.config.dim])) as Tensor2D;
      const mixers: MixerState[] = [];
      this.blocks.forEach((block, i) => {
        const r = blockStep(block, x, state.mixers[i]);
        x = r.x;
        mixers.push(r.state);
      });
      return { logits: this.head(x), mixers } as unknown as tf.TensorContainerObject;
    }) as unknown as { logits: Tensor2D; mixers: MixerState[] };
    return { logits: out.logits, state: { position: position + 1, batch: state.batch, mixers: out.mixers } };
  }

  /**
   * Checks what cannot wait for the first step: every mixer shiftmix does not ship passes
   * the conformance kit's shape and causality checks (see preflightMixers). `train` calls it.
   */
  preflight(): void {
    this.checkAlive();
    preflightMixers(this.blocks, this.config);
  }

  /** Frees every weight; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.wte.dispose();
    this.wpe?.dispose();
    for (const block of this.blocks) disposeBlock(block);
    this.lnf.gamma.dispose();
    this.lnf.beta.dispose();
    this.disposed = true;
  }

  /** Final layer norm and the tied LM head: x [..., D] -> logits [N, V], N the product of the leading axes. */
  private head(x: Tensor): Tensor2D {
    const normed = layerNorm(x, this.lnf.gamma, this.lnf.beta).reshape([-1, this.config.dim]) as Tensor2D;
    return tf.matMul(normed, this.wte as unknown as Tensor2D, false, true);
  }

  private checkAlive(): void {
    if (this.disposed) throw new ShiftmixError('the model was disposed', 'Create or load the model again', 'E_DISPOSED');
  }
}

export { disposeModelState, type ModelState };
