import { ShiftmixError } from '../errors.js';
import type { ShiftmixModel } from '../model/model.js';
import { disposeModelState, type ModelState } from '../model/state.js';
import { Rng } from '../rng.js';
import { tf, type Tensor2D } from '../tf.js';
import { TokenTextStream } from '../tokenizer/stream.js';
import { checkSamplingOptions, sampleToken, type SamplingOptions } from './sample.js';

/** What generation needs from a tokenizer (every Tokenizer has it). */
export interface TextTokenizer {
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

export interface GenerateOptions extends SamplingOptions {
  /** Text to continue; at least one token. */
  prompt: string;
  /** Number of tokens to generate. */
  maxTokens: number;
  /** Seeds the sampling; the same seed, model and prompt give the same text. Default 0. */
  seed?: number;
  /**
   * Called with each new token's text as soon as it is sampled; a token that ends inside
   * a character (byte-level BPE) gives '' until the character completes.
   */
  onToken?: (text: string, id: number) => void;
}

/**
 * Continues `prompt` by up to `maxTokens` tokens and returns the continuation (without
 * the prompt). It decodes incrementally with `model.initState`/`model.step` only: the
 * prompt is prefilled one token at a time and nothing is ever recomputed, so each token
 * costs one step whatever the position.
 *
 * Length: every token but the last generated one is fed through the model, so the prompt
 * plus `maxTokens` - 1 must fit `model.maxSequenceLength`. That is the context length for
 * models with learned positions or an attention layer (its KV cache holds contextLength
 * entries; there is no silent sliding or recomputing), and unbounded for stacks of
 * shift-based mixers, whose ring buffers slide on past the training context.
 */
export async function generate(model: ShiftmixModel, tokenizer: TextTokenizer, options: GenerateOptions): Promise<string> {
  const { maxTokens, prompt, onToken } = options;
  const sampling = checkSamplingOptions(options);
  if (tokenizer.vocabSize !== model.config.vocabSize) {
    throw new ShiftmixError(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model was built for ${model.config.vocabSize}`,
      'Use the tokenizer saved with this model',
      'E_TOKENIZER',
    );
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new ShiftmixError(`maxTokens ${JSON.stringify(maxTokens)} is not a whole number >= 0`, 'Ask for e.g. 500 tokens', 'E_INPUT');
  }
  const promptIds = tokenizer.encode(prompt ?? '');
  if (promptIds.length === 0) {
    throw new ShiftmixError('the prompt is empty', 'Give at least one character to start from, e.g. a newline', 'E_INPUT');
  }
  const needed = promptIds.length + Math.max(maxTokens, 1) - 1;
  if (needed > model.maxSequenceLength) {
    const room = model.maxSequenceLength - promptIds.length + 1;
    throw new ShiftmixError(
      `a prompt of ${promptIds.length} tokens and ${maxTokens} new tokens need ${needed} positions, but this model decodes at most ${model.maxSequenceLength} (its contextLength; it has learned positions or an attention layer)`,
      room >= 1 ? `Ask for at most ${room} tokens or shorten the prompt` : `Shorten the prompt to at most ${model.maxSequenceLength} tokens`,
      'E_CONTEXT',
    );
  }
  if (maxTokens === 0) return '';

  const rng = new Rng(options.seed ?? 0);
  let state: ModelState = model.initState(1);
  let logits: Tensor2D | null = null;
  const feed = (id: number): void => {
    const input = tf.tensor1d([id], 'int32');
    try {
      const out = model.step(input, state);
      disposeModelState(state, out.state);
      state = out.state;
      logits?.dispose();
      logits = out.logits;
    } finally {
      input.dispose();
    }
  };

  let text = '';
  const stream = new TokenTextStream(tokenizer);
  try {
    for (const id of promptIds) feed(id);
    for (let i = 0; i < maxTokens; i++) {
      const values = await (logits as unknown as Tensor2D).data(); // [1, V]
      const id = sampleToken(values, sampling, rng);
      // The last token also gives up what is held back, cut character and all.
      const piece = stream.push(id) + (i === maxTokens - 1 ? stream.flush() : '');
      text += piece;
      onToken?.(piece, id);
      if (i < maxTokens - 1) feed(id);
    }
  } finally {
    (logits as Tensor2D | null)?.dispose();
    disposeModelState(state);
  }
  return text;
}
