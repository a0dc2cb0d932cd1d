import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { AdamW } from './adamw.js';

/** AdamW written out per element in float64, following the PyTorch documentation's algorithm. */
function referenceAdamW(
  p: number[],
  g: number[],
  m: number[],
  v: number[],
  t: number,
  o: { lr: number; beta1: number; beta2: number; eps: number; wd: number; scale: number },
): void {
  for (let i = 0; i < p.length; i++) {
    const grad = g[i] * o.scale;
    p[i] -= o.lr * o.wd * p[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * grad;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * grad * grad;
    const mHat = m[i] / (1 - o.beta1 ** t);
    const vHat = v[i] / (1 - o.beta2 ** t);
    p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}

describe('AdamW', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('matches a hand-written reference over three steps, decaying only the matrix', () => {
    const w0 = [0.5, -1.2, 0.3, 2.0, -0.7, 0.1];
    const b0 = [0.25, -0.5, 1.5];
    const params = new Map<string, Variable>([
      ['w', tf.variable(tf.tensor2d(w0, [2, 3]))],
      ['b', tf.variable(tf.tensor1d(b0))],
    ]);
    const options = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const opt = new AdamW(params, options);
    const ref = {
      w: { p: [...w0], m: new Array(6).fill(0), v: new Array(6).fill(0) },
      b: { p: [...b0], m: new Array(3).fill(0), v: new Array(3).fill(0) },
    };
    const steps = [
      { lr: 1e-2, scale: 1, gw: [0.1, -0.2, 0.3, 0.0, 0.5, -0.6], gb: [1, -1, 0.5] },
      { lr: 5e-3, scale: 0.5, gw: [-0.3, 0.2, 0.1, 0.4, -0.5, 0.6], gb: [0.2, 0.3, -0.4] },
      { lr: 2e-2, scale: 1, gw: [0.05, 0.05, -0.05, 0.2, 0.1, 0.0], gb: [-1, 2, 0.1] },
    ];
    steps.forEach((s, index) => {
      const grads = new Map<string, Tensor>([
        ['w', tf.tensor2d(s.gw, [2, 3])],
        ['b', tf.tensor1d(s.gb)],
      ]);
      opt.apply(grads, s.lr, s.scale);
      tf.dispose([...grads.values()]);
      const o = { lr: s.lr, beta1: 0.9, beta2: 0.99, eps: 1e-8, scale: s.scale };
      referenceAdamW(ref.w.p, s.gw, ref.w.m, ref.w.v, index + 1, { ...o, wd: 0.1 });
      referenceAdamW(ref.b.p, s.gb, ref.b.m, ref.b.v, index + 1, { ...o, wd: 0 });
    });
    const got = (name: string) => Array.from(params.get(name)!.dataSync());
    got('w').forEach((x, i) => expect(x).toBeCloseTo(ref.w.p[i], 6));
    got('b').forEach((x, i) => expect(x).toBeCloseTo(ref.b.p[i], 6));
    const state = opt.getState();
    expect(state.step).toBe(3);
    Array.from(state.m.get('w')!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(ref.w.m[i], 6));
    Array.from(state.v.get('b')!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(ref.b.v[i], 6));
    opt.dispose();
    tf.dispose([...params.values()]);
  });

  it('restores exported state so later updates equal an uninterrupted optimizer', () => {
    const make = () => new Map<string, Variable>([['w', tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]))]]);
    const grad = (k: number) => new Map<string, Tensor>([['w', tf.tensor2d([k, -k, 0.5 * k, 1], [2, 2])]]);
    const straight = make();
    const a = new AdamW(straight, { weightDecay: 0.1 });
    for (let k = 1; k <= 4; k++) {
      const g = grad(k);
      a.apply(g, 0.1);
      tf.dispose([...g.values()]);
    }
    const split = make();
    const b = new AdamW(split, { weightDecay: 0.1 });
    for (let k = 1; k <= 2; k++) {
      const g = grad(k);
      b.apply(g, 0.1);
      tf.dispose([...g.values()]);
    }
    const saved = b.getState();
    const copy = { step: saved.step, m: new Map([...saved.m].map(([n, t]) => [n, t.clone()])), v: new Map([...saved.v].map(([n, t]) => [n, t.clone()])) };
    b.dispose();
    const c = new AdamW(split, { weightDecay: 0.1 });
    c.setState(copy);
    tf.dispose([...copy.m.values(), ...copy.v.values()]);
    for (let k = 3; k <= 4; k++) {
      const g = grad(k);
      c.apply(g, 0.1);
      tf.dispose([...g.values()]);
    }
    expect(Array.from(split.get('w')!.dataSync())).toEqual(Array.from(straight.get('w')!.dataSync()));
    expect(c.step).toBe(4);
    a.dispose();
    c.dispose();
    tf.dispose([...straight.values(), ...split.values()]);
  });

  it('refuses state whose names or shapes differ, and leaks no tensors', () => {
    const params = new Map<string, Variable>([['w', tf.variable(tf.ones([2, 2]))]]);
    const empty = tf.memory().numTensors;
    new AdamW(params).dispose();
    expect(tf.memory().numTensors).toBe(empty);
    const opt = new AdamW(params);
    const wrongShape = { step: 1, m: new Map([['w', tf.zeros([4])]]), v: new Map([['w', tf.zeros([2, 2])]]) };
    expect(() => opt.setState(wrongShape)).toThrow(/optimizer m for "w" has shape \[4\]/);
    const wrongName = { step: 1, m: new Map([['x', tf.zeros([2, 2])]]), v: new Map([['w', tf.zeros([2, 2])]]) };
    expect(() => opt.setState(wrongName)).toThrow(/unknown weight "x"/);
    const g = new Map<string, Tensor>([['w', tf.ones([2, 2])]]);
    expect(() => opt.apply(new Map([['nope', g.get('w')!]]), 0.1)).toThrow(/unknown weight "nope"/);
    opt.apply(g, 0.1, 0.5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) opt.apply(g, 0.1, 0.5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...wrongShape.m.values(), ...wrongShape.v.values(), ...wrongName.m.values(), ...wrongName.v.values(), ...g.values()]);
    opt.dispose();
    tf.dispose([...params.values()]);
  });

  it('clipAndApply clips by the global norm, as apply with clipScale does', async () => {
    const make = () =>
      new Map<string, Variable>([
        ['w', tf.variable(tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]))],
        ['b', tf.variable(tf.tensor1d([1, -1]))],
      ]);
    const [clipped, manual] = [make(), make()];
    const options = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 };
    const [a, b] = [new AdamW(clipped, options), new AdamW(manual, options)];
    const grads = new Map<string, Tensor>([
      ['w', tf.tensor2d([3, 0, -4, 0], [2, 2])],
      ['b', tf.tensor1d([0, 12])],
    ]);
    const loss = tf.scalar(2.5);
    const result = await a.clipAndApply(grads, loss, 1e-2, 1.0);
    // sqrt(9 + 16 + 144) = 13, so the gradients shrink by 1 / (13 + 1e-6).
    expect(result).toEqual({ loss: 2.5, norm: 13, applied: true, waitMs: expect.any(Number) });
    b.apply(grads, 1e-2, 1 / (13 + 1e-6));
    for (const name of ['w', 'b']) {
      Array.from(clipped.get(name)!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(manual.get(name)!.dataSync()[i], 7));
    }
    expect(a.step).toBe(1);
    tf.dispose([loss, ...grads.values(), ...clipped.values(), ...manual.values()]);
    a.dispose();
    b.dispose();
  });

  for (const [what, loss, g] of [
    ['a NaN gradient', 2, Number.NaN],
    ['an infinite loss', Number.POSITIVE_INFINITY, 1],
  ] as const) {
    it(`clipAndApply changes nothing after ${what}`, async () => {
      const params = new Map<string, Variable>([['w', tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]))]]);
      const opt = new AdamW(params, { weightDecay: 0.1 });
      const grads = new Map<string, Tensor>([['w', tf.tensor2d([0.1, g, 0.3, 0.4], [2, 2])]]);
      const lossTensor = tf.scalar(loss);
      const result = await opt.clipAndApply(grads, lossTensor, 1e-2, 1.0);
      expect(result.applied).toBe(false);
      expect(result.loss).toBe(loss);
      expect(Array.from(params.get('w')!.dataSync())).toEqual([1, 2, 3, 4]);
      expect(Array.from(opt.getState().m.get('w')!.dataSync())).toEqual([0, 0, 0, 0]);
      expect(opt.step).toBe(0);
      tf.dispose([lossTensor, ...grads.values(), ...params.values()]);
      opt.dispose();
    });
  }

  it('clipAndApply halts after a step that is not finite, until clearHalt()', async () => {
    const params = new Map<string, Variable>([['w', tf.variable(tf.tensor1d([1, 2]))]]);
    const opt = new AdamW(params);
    const good = new Map<string, Tensor>([['w', tf.tensor1d([0.5, -0.5])]]);
    const bad = new Map<string, Tensor>([['w', tf.tensor1d([0.5, Number.NaN])]]);
    const loss = tf.scalar(1);
    expect((await opt.clipAndApply(bad, loss, 1e-1, 1)).applied).toBe(false);
    expect(opt.halted).toBe(true);
    const skipped = await opt.clipAndApply(good, loss, 1e-1, 1);
    expect(skipped).toMatchObject({ loss: 1, applied: false });
    expect(skipped.norm).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Array.from(params.get('w')!.dataSync())).toEqual([1, 2]);
    opt.clearHalt();
    expect(opt.halted).toBe(false);
    expect((await opt.clipAndApply(good, loss, 1e-1, 1)).applied).toBe(true);
    expect(opt.step).toBe(1);
    expect(Array.from(params.get('w')!.dataSync())).not.toEqual([1, 2]);
    tf.dispose([loss, ...good.values(), ...bad.values(), ...params.values()]);
    opt.dispose();
  });
});
