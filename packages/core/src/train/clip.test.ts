import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { AdamW } from './adamw.js';
import { clipByGlobalNorm, clipScale, globalNorm } from './clip.js';

describe('gradient clipping', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  const values = { a: [3, -4, 1, 2], b: [0.5, -2, 7] };
  const naiveNorm = Math.sqrt([...values.a, ...values.b].reduce((s, x) => s + x * x, 0));
  const grads = () =>
    new Map<string, Tensor>([
      ['a', tf.tensor2d(values.a, [2, 2])],
      ['b', tf.tensor1d(values.b)],
    ]);

  it('computes the global norm over all gradients', () => {
    const g = grads();
    const norm = globalNorm(g.values());
    expect(norm.dataSync()[0]).toBeCloseTo(naiveNorm, 4);
    tf.dispose([norm, ...g.values()]);
  });

  it('scales gradients down to the maximum norm and leaves small ones alone', async () => {
    const g = grads();
    const { grads: clipped, norm } = await clipByGlobalNorm(g, 2);
    expect(norm).toBeCloseTo(naiveNorm, 4);
    const after = globalNorm(clipped.values());
    expect(after.dataSync()[0]).toBeCloseTo(2, 4);
    // Direction is kept: each entry is scaled by the same factor.
    expect(clipped.get('a')!.dataSync()[0] / values.a[0]).toBeCloseTo(2 / naiveNorm, 5);
    const { grads: kept } = await clipByGlobalNorm(g, 100);
    expect(Array.from(kept.get('b')!.dataSync())).toEqual(values.b);
    expect(clipScale(5, 0)).toBe(1);
    tf.dispose([after, ...g.values(), ...clipped.values(), ...kept.values()]);
  });

  it('gives the same AdamW update whether gradients are clipped first or scaled inside apply', async () => {
    const make = () =>
      new Map<string, Variable>([
        ['a', tf.variable(tf.ones([2, 2]))],
        ['b', tf.variable(tf.zeros([3]))],
      ]);
    const p1 = make();
    const p2 = make();
    const o1 = new AdamW(p1, { weightDecay: 0.1 });
    const o2 = new AdamW(p2, { weightDecay: 0.1 });
    for (let step = 0; step < 3; step++) {
      const g = grads();
      const { grads: clipped, norm } = await clipByGlobalNorm(g, 1);
      o1.apply(clipped, 0.01);
      o2.apply(g, 0.01, clipScale(norm, 1));
      tf.dispose([...g.values(), ...clipped.values()]);
    }
    for (const name of ['a', 'b']) {
      const x = p1.get(name)!.dataSync();
      p2.get(name)!
        .dataSync()
        .forEach((y, i) => expect(y).toBeCloseTo(x[i], 6));
    }
    o1.dispose();
    o2.dispose();
    tf.dispose([...p1.values(), ...p2.values()]);
  });
});
