import { Rng } from '../rng.js';
import { tf, type Tensor2D, type Variable } from '../tf.js';
import type { TrainableModel } from './types.js';

/**
 * A bigram model with dropout, small enough for many steps in a test: logits =
 * dropout(E[x]) W + b. `poisonAtCall` makes that call's loss NaN, to test divergence.
 */
export class TinyModel implements TrainableModel {
  readonly config: { contextLength: number; vocabSize: number; dim: number; dropout: number; seed: number };
  readonly rng: Rng;
  poisonAtCall = -1;
  calls = 0;
  private readonly vars: Map<string, Variable>;

  constructor(config: { contextLength: number; vocabSize: number; dim: number; dropout: number; seed: number }) {
    this.config = config;
    const init = new Rng(config.seed);
    this.rng = new Rng(config.seed + 1);
    const { vocabSize: v, dim: d } = config;
    this.vars = new Map([
      ['emb', tf.variable(tf.randomNormal([v, d], 0, 0.5, 'float32', init.seed()))],
      ['head.w', tf.variable(tf.randomNormal([d, v], 0, 0.5, 'float32', init.seed()))],
      ['head.b', tf.variable(tf.zeros([v]))],
    ]);
  }

  weights(): Map<string, Variable> {
    return this.vars;
  }

  loss(tokens: Tensor2D, targets: Tensor2D, opts: { training: boolean }): tf.Scalar {
    this.calls += 1;
    const poison = this.calls === this.poisonAtCall;
    return tf.tidy(() => {
      const { vocabSize: v, dropout } = this.config;
      let h = tf.gather(this.vars.get('emb')!, tokens.flatten()) as tf.Tensor2D; // [B*T, D]
      if (opts.training && dropout > 0) h = tf.dropout(h, dropout, undefined, this.rng.seed()) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(h, this.vars.get('head.w')!), this.vars.get('head.b')!); // [B*T, V]
      const labels = tf.oneHot(targets.flatten(), v);
      const loss = tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      return poison ? (tf.mul(loss, Number.NaN) as tf.Scalar) : loss;
    });
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** Token ids with a learnable pattern (next = 3 * current + 1 mod V, 20% noise), from a fixed seed. */
export function patternIds(length: number, vocabSize: number, seed = 7): Int32Array {
  const rng = new Rng(seed);
  const ids = new Int32Array(length);
  for (let i = 1; i < length; i++) ids[i] = rng.next() < 0.8 ? (3 * ids[i - 1] + 1) % vocabSize : rng.int(vocabSize);
  return ids;
}
