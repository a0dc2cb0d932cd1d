import { Rng } from '../rng.js';
import { tf, type Tensor2D, type Variable } from '../tf.js';
import type { Batch, TrainableModel, TrainingData } from './types.js';

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
      const { vocabSize: v, dim: d, dropout } = this.config;
      let h = tf.gather(this.vars.get('emb')!, tokens.flatten()) as tf.Tensor2D; // [B*T, D]
      if (opts.training && dropout > 0) h = tf.dropout(h, dropout, undefined, this.rng.seed());
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

/** Token ids from a fixed seed with a learnable pattern (next = 3 * current + 1 mod V, with noise). */
export class TinyData implements TrainingData {
  private readonly ids: Int32Array;

  constructor(length: number, vocabSize: number, seed = 7) {
    const rng = new Rng(seed);
    this.ids = new Int32Array(length);
    for (let i = 1; i < length; i++) this.ids[i] = rng.next() < 0.8 ? (3 * this.ids[i - 1] + 1) % vocabSize : rng.int(vocabSize);
  }

  private window(split: 'train' | 'val', rng: Rng, batch: number, ctx: number): Batch {
    const half = Math.floor(this.ids.length * 0.9);
    const [lo, hi] = split === 'train' ? [0, half] : [half, this.ids.length];
    const x = new Int32Array(batch * ctx);
    const y = new Int32Array(batch * ctx);
    for (let b = 0; b < batch; b++) {
      const start = lo + rng.int(hi - lo - ctx - 1);
      x.set(this.ids.subarray(start, start + ctx), b * ctx);
      y.set(this.ids.subarray(start + 1, start + ctx + 1), b * ctx);
    }
    return { x: tf.tensor2d(x, [batch, ctx], 'int32'), y: tf.tensor2d(y, [batch, ctx], 'int32') };
  }

  sampleBatch(split: 'train' | 'val', batch: number, ctx: number, rng: Rng): Batch {
    return this.window(split, rng, batch, ctx);
  }

  fixedBatches(split: 'train' | 'val', count: number, batch: number, ctx: number, seed: number): Batch[] {
    const rng = new Rng(seed);
    return Array.from({ length: count }, () => this.window(split, rng, batch, ctx));
  }
}
