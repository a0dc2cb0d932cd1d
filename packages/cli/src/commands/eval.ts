import { bitsPerByte, TextDataset, tf, type ShiftmixModel } from '@shiftmix/core';
import { openCheckpoint } from '../checkpoint.js';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { InputError } from '../errors.js';
import { requireData } from '../options.js';
import { loadData } from '../run-info.js';
import { closeData } from './data.js';
import { BACKEND_FLAG, CHECKPOINT_FLAG } from './shared.js';

export interface EvalResult {
  /** Mean next-token cross-entropy in nats. */
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  /** The loss per byte of text, where the data's bytes per token are known. */
  bitsPerByte?: number;
  /** Predicted tokens the loss is averaged over. */
  tokens: number;
  windows: number;
  window: number;
}

/**
 * Mean loss of `model` over `ids` cut into consecutive, non-overlapping windows of the
 * model's context length (shorter text: one window of all of it), `batch` windows at a
 * time. Every window has the same length, so the mean of window losses is the mean
 * over tokens.
 */
export async function evaluateText(model: ShiftmixModel, ids: Int32Array, batch: number, maxWindows?: number): Promise<EvalResult> {
  const window = Math.min(model.config.contextLength, ids.length - 1);
  const windows = Math.min(Math.floor((ids.length - 1) / window), maxWindows ?? Number.POSITIVE_INFINITY);
  let sum = 0;
  for (let first = 0; first < windows; first += batch) {
    const rows = Math.min(batch, windows - first);
    const x = new Int32Array(rows * window);
    const y = new Int32Array(rows * window);
    for (let r = 0; r < rows; r++) {
      const start = (first + r) * window;
      x.set(ids.subarray(start, start + window), r * window);
      y.set(ids.subarray(start + 1, start + window + 1), r * window);
    }
    const loss = tf.tidy(() => {
      const tokens = tf.tensor2d(x, [rows, window], 'int32'); // [B, T]
      const targets = tf.tensor2d(y, [rows, window], 'int32'); // [B, T]
      return model.loss(tokens, targets, { training: false });
    });
    sum += (await loss.data())[0] * rows;
    loss.dispose();
  }
  const mean = sum / windows;
  return { loss: mean, perplexity: Math.exp(mean), bitsPerToken: mean / Math.LN2, tokens: windows * window, windows, window };
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: "Measure a trained model's loss on text or token files",
  usage: 'eval --checkpoint DIR --data DATA [--json] [flags]',
  details:
    "The text (encoded with the checkpoint's tokenizer) is cut into consecutive windows of the model's context length; the loss is the " +
    'mean next-token cross-entropy over all of them, also in bits per byte. Token files: their validation split.',
  flags: {
    ...CHECKPOINT_FLAG,
    data: { type: 'string', required: true, placeholder: 'DATA', description: 'Text file, folder, quoted glob, .jsonl or .bin token files' },
    batch: { type: 'number', integer: true, min: 1, default: 16, description: 'Windows per forward pass' },
    maxWindows: { type: 'number', integer: true, min: 1, placeholder: 'N', description: 'Evaluate at most N windows (default: all)' },
    json: { type: 'boolean', description: 'Print one JSON object: loss, perplexity, bitsPerToken, bitsPerByte, tokens, windows, window' },
    ...BACKEND_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix eval --checkpoint runs/hsm --data valid.txt', 'shiftmix eval --checkpoint runs/hsm/last --data valid.txt --json'],
  async run(flags, { io }) {
    const data = requireData(flags.data, io.cwd, '--data');
    const { model, tokenizer, dir } = await openCheckpoint(flags.checkpoint, io, { plugins: flags.plugin, backend: flags.backend });
    const corpus = await loadData(data, { tokenizer }).catch((error: unknown) => {
      model.dispose();
      throw error;
    });
    try {
      const { dataset } = corpus;
      // Text: all of it (both splits are views of one token stream); token files: their validation split.
      const ids = dataset instanceof TextDataset ? concat(dataset.train, dataset.val) : dataset.read('val', 0, dataset.size('val'));
      if (ids.length < 2) {
        throw new InputError(`--data ${flags.data} has ${ids.length} token(s), too few to predict anything`, 'Pass a text of at least two characters');
      }
      const measured = await evaluateText(model, ids, flags.batch, flags.maxWindows);
      // Bytes per token of exactly the evaluated tokens' text.
      const bytesPerToken = new TextEncoder().encode(tokenizer.decode(ids)).length / ids.length;
      const result = { ...measured, bitsPerByte: bitsPerByte(measured.loss, bytesPerToken) };
      if (flags.json) {
        io.stdout(`${JSON.stringify({ ...result, checkpoint: dir })}\n`);
      } else {
        io.stdout(
          `loss ${result.loss.toFixed(4)} | perplexity ${result.perplexity.toFixed(3)} | ${result.bitsPerToken.toFixed(3)} bits/token` +
            (result.bitsPerByte === undefined ? '' : ` | ${result.bitsPerByte.toFixed(3)} bits/byte`) +
            ` over ${result.tokens} tokens (${result.windows} windows of ${result.window})\n`,
        );
      }
    } finally {
      model.dispose();
      closeData(corpus);
    }
  },
});

function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
