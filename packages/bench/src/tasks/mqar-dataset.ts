import { Rng, tf, type Batch, type ShiftmixModel, type TrainingData } from '@shiftmix/core';
import { IGNORE_LABEL, type MqarData } from './mqar-data.js';

function rowsBatch(data: MqarData, rows: number[]): Batch {
  const t = data.seqLen;
  const x = new Int32Array(rows.length * t);
  const y = new Int32Array(rows.length * t);
  rows.forEach((r, i) => {
    x.set(data.inputs.subarray(r * t, (r + 1) * t), i * t);
    y.set(data.labels.subarray(r * t, (r + 1) * t), i * t);
  });
  return { x: tf.tensor2d(x, [rows.length, t], 'int32'), y: tf.tensor2d(y, [rows.length, t], 'int32') };
}

/**
 * MQAR examples as the trainer's data: targets are the labels, negative (ignored by
 * the model's loss) everywhere but at query positions. Training batches draw rows with
 * the trainer's seeded generator, so every model sees the same examples in the same order.
 */
export class MqarDataset implements TrainingData {
  constructor(
    readonly train: MqarData,
    readonly test: MqarData,
  ) {}

  sampleBatch(split: 'train' | 'val', batch: number, _contextLength: number, rng: Rng): Batch {
    const data = split === 'train' ? this.train : this.test;
    return rowsBatch(
      data,
      Array.from({ length: batch }, () => rng.int(data.count)),
    );
  }

  /** The test set in order, `count` batches (wrapping around when it runs out). */
  fixedBatches(split: 'train' | 'val', count: number, batch: number): Batch[] {
    const data = split === 'train' ? this.train : this.test;
    return Array.from({ length: count }, (_, b) =>
      rowsBatch(
        data,
        Array.from({ length: batch }, (_, i) => (b * batch + i) % data.count),
      ),
    );
  }
}

/** Fraction of query positions whose argmax prediction is the stored value. */
export async function mqarAccuracy(model: ShiftmixModel, data: MqarData, batch: number): Promise<number> {
  let correct = 0;
  let total = 0;
  for (let start = 0; start < data.count; start += batch) {
    const rows = Array.from({ length: Math.min(batch, data.count - start) }, (_, i) => start + i);
    const { x, y } = rowsBatch(data, rows);
    const hits = tf.tidy(() => {
      const predicted = tf.argMax(model.forward(x, { training: false }), -1); // [B, T]
      const queried = tf.notEqual(y, IGNORE_LABEL);
      const right = tf.logicalAnd(queried, tf.equal(predicted, y));
      return tf.stack([tf.sum(tf.cast(right, 'int32')), tf.sum(tf.cast(queried, 'int32'))]);
    });
    const [c, n] = await hits.data();
    tf.dispose([x, y, hits]);
    correct += c;
    total += n;
  }
  return total > 0 ? correct / total : 0;
}
