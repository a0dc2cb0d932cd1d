import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Suite } from '../suite/types.js';

/** The plugin the tiny suite's mixer comes from. */
export const PREV_TOKEN_PLUGIN = fileURLToPath(new URL('./prev-token-plugin.ts', import.meta.url));

/** Writes the text the tiny suite's lm-char benchmark trains on into `dir`. */
export function writeTinyText(dir: string): void {
  writeFileSync(join(dir, 'text.txt'), 'to be or not to be, that is the question. '.repeat(20));
}

/**
 * A suite of every task in seconds on the cpu backend, all on the plugin's mixer:
 * lm-char with two models, scaling up to `maxSeqLen`, decode.
 */
export function tinySuite(maxSeqLen = 16): Suite {
  const layers = 'bench-prev-token*2';
  return {
    name: 'tiny',
    seed: 5,
    benchmarks: [
      {
        name: 'lm',
        task: 'lm-char',
        data: 'text.txt',
        models: { p1: { layers }, p2: { layers, ffn: 32 } },
        presets: { quick: { dim: 8, heads: 1, contextLength: 8, batch: 2, steps: 3, evalEvery: 3, evalBatches: 1, warmup: 1, dropout: 0 } },
      },
      {
        name: 'scale',
        task: 'scaling',
        models: { p1: { layers: 'bench-prev-token' } },
        presets: { quick: { dim: 8, heads: 1, minSeqLen: 8, maxSeqLen, warmup: 0, repeats: 1 } },
      },
      { name: 'dec', task: 'decode', models: { p1: { layers } }, presets: { quick: { dim: 8, heads: 1, contextLength: 6, vocabSize: 11, bucket: 3 } } },
    ],
  };
}
