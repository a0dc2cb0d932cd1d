import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyComposite } from './index.js';
import { selectBackend } from '../backend.js';
import { ShiftmixError } from '../errors.js';
import { tf, type Tensor, type Tensor1D, type Tensor2D } from '../tf.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const ROWS = 6;
const VOCAB = 5;
const values = Array.from({ length: ROWS * VOCAB }, (_, i) => Math.sin(i * 1.7) * 3);
const ids = [4, -1, 0, 2, -100, 3];

/** Float64 loops: the mean of -log softmax over valid rows and its gradient (softmax - onehot) / count. */
function reference(rows: number[][], targets: number[]): { loss: number; grad: number[][] } {
  const count = Math.max(targets.filter((y) => y >= 0).length, 1);
  let total = 0;
  const grad = rows.map((row, n) => {
    const y = targets[n];
    if (y < 0) return row.map(() => 0);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    total += max + logSum - row[y];
    return row.map((x, v) => (Math.exp(x - max - logSum) - (v === y ? 1 : 0)) / count);
  });
  return { loss: total / count, grad };
}

function lossAndGrad(fn: typeof crossEntropy, logits: Tensor2D, targets: Tensor1D): { loss: number; grad: number[][] } {
  const { value, grads } = tf.valueAndGrads((l: Tensor) => fn(l as Tensor2D, targets))([logits]);
  return { loss: value.dataSync()[0], grad: grads[0].arraySync() as number[][] };
}

describe('crossEntropy', () => {
  const logits = tf.tensor2d(values, [ROWS, VOCAB]);
  const rows = logits.arraySync();

  it('is the mean over valid rows of -log softmax[target], with gradient (softmax - onehot) / count', () => {
    const got = lossAndGrad(crossEntropy, logits, tf.tensor1d(ids, 'int32'));
    const want = reference(rows, ids);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-6);
    got.grad.forEach((row, n) => row.forEach((g, v) => expect(Math.abs(g - want.grad[n][v]), `[${n}, ${v}]`).toBeLessThan(1e-6)));
  });

  it('is the composite path where no backend kernel is registered, bit for bit', () => {
    const targets = tf.tensor1d(ids, 'int32');
    const a = lossAndGrad(crossEntropy, logits, targets);
    const b = lossAndGrad(crossEntropyComposite, logits, targets);
    expect(a).toEqual(b);
  });

  it('has loss 0 and zero gradients when every target is ignored', () => {
    const got = lossAndGrad(
      crossEntropy,
      logits,
      tf.tensor1d(
        ids.map(() => -1),
        'int32',
      ),
    );
    expect(Math.abs(got.loss)).toBe(0);
    expect(got.grad.flat().every((g) => g === 0)).toBe(true);
  });

  it('makes the loss and every gradient NaN when a target is >= V', () => {
    const got = lossAndGrad(crossEntropy, logits, tf.tensor1d([1, VOCAB, -1, 0, 2, 3], 'int32'));
    expect(Number.isNaN(got.loss)).toBe(true);
    expect(got.grad.flat().every(Number.isNaN)).toBe(true);
  });

  it('rejects float targets, a row-count mismatch, rank-3 logits and V = 0 with a ShiftmixError', () => {
    const bad: [tf.Tensor, tf.Tensor][] = [
      [logits, tf.tensor1d(ids)],
      [logits, tf.tensor1d([0, 1], 'int32')],
      [logits.reshape([2, 3, VOCAB]), tf.tensor1d(ids, 'int32')],
      [tf.zeros([ROWS, 0]), tf.tensor1d(ids, 'int32')],
    ];
    for (const [l, t] of bad) {
      expect(() => crossEntropy(l as Tensor2D, t as Tensor1D), JSON.stringify([l.shape, t.dtype])).toThrow(ShiftmixError);
    }
  });
});
