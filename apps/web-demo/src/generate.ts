import type { Decoder } from './decoder.js';
import type { GenerationStats } from './protocol.js';
import { DemoError } from './protocol.js';
import { Rng, checkSamplingOptions, sampleToken } from '@shiftmix/core/text';

export interface GenerateOptions {
  /** Divides the logits; 0 takes the most likely character. */
  temperature: number;
  /** Keep only the k most likely characters; 0 keeps all. */
  topK: number;
  maxTokens: number;
  seed: number;
  /** Record each step's time in `stats.stepMs` and the state's size after it in `stats.stateBytes`, indexed by position. */
  timings?: boolean;
  /** Asked before every step; true ends the generation early. */
  shouldStop?: () => boolean;
  onToken?: (id: number, position: number, tokensPerSecond: number) => void;
}

export interface Generation {
  ids: number[];
  stats: GenerationStats;
  stopped: boolean;
}

/**
 * Prefills the prompt by stepping decode.onnx through it, then samples up to `maxTokens`
 * tokens. When a model with a bounded context is full, it starts again from zero state
 * on the last half of the text, so generation can go on past the context length.
 */
export async function generate(decoder: Decoder, prompt: readonly number[], options: GenerateOptions): Promise<Generation> {
  checkSamplingOptions(options);
  if (prompt.length === 0) throw new DemoError('the prompt is empty', 'Type at least one character', 'E_EMPTY_PROMPT');
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) {
    throw new DemoError(`max tokens ${options.maxTokens} is not a whole number >= 0`, 'Use e.g. 200', 'E_SAMPLING');
  }
  const rng = new Rng(options.seed);
  const max = decoder.manifest.maxSequenceLength;
  const keep = max === null ? 0 : Math.max(1, Math.floor(max / 2));
  const history: number[] = [];
  const stepMs: number[] = [];
  const stateBytes: number[] = [];
  let restarts = 0;

  const feed = async (token: number): Promise<Float32Array> => {
    if (max !== null && decoder.position >= max) {
      restarts++;
      const recent = history.slice(-keep);
      decoder.reset();
      for (const t of recent) await decoder.step(t);
    }
    const start = performance.now();
    const position = decoder.position;
    const logits = await decoder.step(token);
    if (options.timings) {
      stepMs[position] = performance.now() - start;
      stateBytes[position] = decoder.stateBytes();
    }
    history.push(token);
    return logits;
  };

  decoder.reset();
  const prefillStart = performance.now();
  let logits!: Float32Array;
  for (const token of prompt) logits = await feed(token);
  const prefillMs = performance.now() - prefillStart;

  const ids: number[] = [];
  const decodeStart = performance.now();
  let stopped = false;
  while (ids.length < options.maxTokens) {
    if (options.shouldStop?.()) {
      stopped = true;
      break;
    }
    const id = sampleToken(logits, options, rng);
    ids.push(id);
    const elapsed = performance.now() - decodeStart;
    options.onToken?.(id, decoder.position, elapsed > 0 ? (ids.length * 1000) / elapsed : 0);
    // The last token is fed too, so each generated token costs one step in the timing.
    logits = await feed(id);
  }
  const decodeMs = performance.now() - decodeStart;
  return {
    ids,
    stopped,
    stats: {
      promptTokens: prompt.length,
      generatedTokens: ids.length,
      prefillMs,
      decodeMs,
      tokensPerSecond: decodeMs > 0 ? (ids.length * 1000) / decodeMs : 0,
      restarts,
      stepMs: options.timings ? stepMs : undefined,
      stateBytes: options.timings ? stateBytes : undefined,
    },
  };
}
