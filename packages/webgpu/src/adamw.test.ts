import { AdamW, isShiftmixError, tf, type Tensor, type Variable } from '@shiftmix/core';
import { clipScale, globalNorm } from '@shiftmix/core/tooling';
import { ADAMW } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { adamwTuning } from './index.js';
import { expectClose, normal } from './test-utils.js';

useBackend('webgpu');

// Matrices (decayed) and vectors (not), sizes with and without a multiple of 4, one past
// a sum-of-squares workgroup's share and one element.
const SHAPES: Record<string, number[]> = { w: [6, 5], b: [7], e: [130, 160], g: [8], s: [1] };
const OPTIONS = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

function weights(seed: number): Map<string, Variable> {
  return new Map(Object.entries(SHAPES).map(([name, shape], i) => [name, tf.variable(normal(shape, seed + i))]));
}

function gradients(step: number, spread: number): Map<string, Tensor> {
  return new Map(Object.entries(SHAPES).map(([name, shape], i) => [name, tf.mul(normal(shape, 100 * step + i), spread)]));
}

/** The composite path: the norm read back on the host, then apply() with its clip scale. */
async function compositeStep(opt: AdamW, grads: Map<string, Tensor>, lr: number, maxNorm: number): Promise<number> {
  const normTensor = globalNorm(grads.values());
  const norm = (await normTensor.data())[0];
  normTensor.dispose();
  opt.apply(grads, lr, clipScale(norm, maxNorm));
  return norm;
}

describe('ShiftmixAdamW on webgpu', () => {
  for (const maxNorm of [0, 1]) {
    it(`matches the composite update over three steps (clip ${maxNorm || 'off'})`, async () => {
      expect(tf.getKernel(ADAMW.name, 'webgpu')).toBeDefined();
      const [fusedWeights, compositeWeights] = [weights(1), weights(1)];
      const [fused, composite] = [new AdamW(fusedWeights, OPTIONS), new AdamW(compositeWeights, OPTIONS)];
      for (const [step, lr] of [
        [1, 1e-2],
        [2, 5e-3],
        [3, 2e-2],
      ]) {
        const grads = gradients(step, 0.5);
        const loss = tf.scalar(1.5);
        const result = await fused.clipAndApply(grads, loss, lr, maxNorm);
        const norm = await compositeStep(composite, grads, lr, maxNorm);
        expect(result.applied).toBe(true);
        expect(result.norm).toBeCloseTo(norm, 3);
        tf.dispose([loss, ...grads.values()]);
      }
      expect(fused.step).toBe(3);
      const [fs, cs] = [fused.getState(), composite.getState()];
      for (const name of Object.keys(SHAPES)) {
        await expectClose(fusedWeights.get(name)!, compositeWeights.get(name)!, 1e-5, `p ${name}`);
        await expectClose(fs.m.get(name)!, cs.m.get(name)!, 1e-5, `m ${name}`);
        await expectClose(fs.v.get(name)!, cs.v.get(name)!, 1e-5, `v ${name}`);
      }
      // The weights moved, or the comparison proves nothing.
      const start = weights(1);
      expect(Array.from(await fusedWeights.get('w')!.data())).not.toEqual(Array.from(await start.get('w')!.data()));
      tf.dispose([...start.values(), ...fusedWeights.values(), ...compositeWeights.values()]);
      fused.dispose();
      composite.dispose();
    });
  }

  for (const perDispatch of [1, 2, 3]) {
    it(`reads gradients and updates weights ${perDispatch} per dispatch, with groups left over`, async () => {
      const saved = { ...adamwTuning };
      Object.assign(adamwTuning, { maxGradientsPerDispatch: perDispatch, maxWeightsPerUpdate: perDispatch });
      try {
        const [fusedWeights, compositeWeights] = [weights(3), weights(3)];
        const [fused, composite] = [new AdamW(fusedWeights, OPTIONS), new AdamW(compositeWeights, OPTIONS)];
        const grads = gradients(5, 2);
        const loss = tf.scalar(0.5);
        const result = await fused.clipAndApply(grads, loss, 1e-2, 1);
        const norm = await compositeStep(composite, grads, 1e-2, 1);
        expect(result.norm).toBeCloseTo(norm, 3);
        const [fs, cs] = [fused.getState(), composite.getState()];
        for (const name of Object.keys(SHAPES)) {
          await expectClose(fusedWeights.get(name)!, compositeWeights.get(name)!, 1e-5, `p ${name}`);
          await expectClose(fs.v.get(name)!, cs.v.get(name)!, 1e-5, `v ${name}`);
        }
        tf.dispose([loss, ...grads.values(), ...fusedWeights.values(), ...compositeWeights.values()]);
        fused.dispose();
        composite.dispose();
      } finally {
        Object.assign(adamwTuning, saved);
      }
    });
  }

  it('changes nothing when a gradient holds NaN or the loss is infinite', async () => {
    const params = weights(7);
    const before = await Promise.all([...params.values()].map((p) => p.data()));
    const opt = new AdamW(params, OPTIONS);
    for (const [loss, poison] of [
      [2, Number.NaN],
      [Number.POSITIVE_INFINITY, 0],
    ]) {
      const grads = gradients(1, 1);
      const poisoned = tf.add(grads.get('e')!, tf.fill([...SHAPES.e], poison));
      grads.get('e')!.dispose();
      grads.set('e', poisoned);
      const lossTensor = tf.scalar(loss);
      const result = await opt.clipAndApply(grads, lossTensor, 1e-2, 1);
      expect(result.applied).toBe(false);
      tf.dispose([lossTensor, ...grads.values()]);
    }
    const after = await Promise.all([...params.values()].map((p) => p.data()));
    after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
    expect(Array.from(await opt.getState().m.get('w')!.data()).every((x) => x === 0)).toBe(true);
    expect(opt.step).toBe(0);
    tf.dispose([...params.values()]);
    opt.dispose();
  });

  it('updates in place without touching tensors that shared a buffer, and drops stale host copies', async () => {
    const initial = tf.ones([4, 4]);
    // tf.variable shares the initial tensor's buffer until AdamW gives the weight its own.
    const params = new Map<string, Variable>([['w', tf.variable(initial)]]);
    const opt = new AdamW(params, OPTIONS);
    const read = await params.get('w')!.data();
    expect(Array.from(read).every((x) => x === 1)).toBe(true);
    const grads = new Map<string, Tensor>([['w', tf.fill([4, 4], 0.5)]]);
    const loss = tf.scalar(1);
    await opt.clipAndApply(grads, loss, 1e-1, 0);
    expect(Array.from(await initial.data()).every((x) => x === 1)).toBe(true);
    // Adam's first step moves each weight by about lr against the gradient's sign; decay shrinks it too.
    const moved = await params.get('w')!.data();
    moved.forEach((x) => expect(x).toBeCloseTo(1 - 1e-1 * 0.1 - 1e-1, 4));
    tf.dispose([initial, loss, ...grads.values(), ...params.values()]);
    opt.dispose();
  });

  it('halts the updates queued behind a step that is not finite, until clearHalt()', async () => {
    const params = weights(9);
    const before = await Promise.all([...params.values()].map((p) => p.data()));
    const opt = new AdamW(params, OPTIONS);
    const bad = gradients(1, 1);
    const poisoned = tf.mul(bad.get('w')!, Number.NaN);
    bad.get('w')!.dispose();
    bad.set('w', poisoned);
    const good = gradients(2, 1);
    const loss = tf.scalar(1.5);
    // Both are queued before either is read back, as a pipelined trainer queues them.
    const first = opt.clipAndApply(bad, loss, 1e-2, 1);
    const second = opt.clipAndApply(good, loss, 1e-2, 1);
    const [a, b] = await Promise.all([first, second]);
    expect(a.applied).toBe(false);
    // The second step is finite on its own, yet it changed nothing.
    expect(Number.isFinite(b.loss) && Number.isFinite(b.norm)).toBe(true);
    expect(b.applied).toBe(false);
    expect(opt.step).toBe(0);
    expect(opt.halted).toBe(true);
    // Read back or not, the halt holds until it is cleared.
    expect((await opt.clipAndApply(good, loss, 1e-2, 1)).applied).toBe(false);
    const after = await Promise.all([...params.values()].map((p) => p.data()));
    after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
    opt.clearHalt();
    const fourth = await opt.clipAndApply(good, loss, 1e-2, 1);
    expect(fourth.applied).toBe(true);
    expect(opt.step).toBe(1);
    expect(Array.from(await params.get('w')!.data())).not.toEqual(Array.from(before[0]));
    tf.dispose([loss, ...bad.values(), ...good.values(), ...params.values()]);
    opt.dispose();
  });

  const attrs = { count: 1, decays: [0], lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1, maxNorm: 0 };
  const runFused = (inputs: Record<string, Tensor>) => {
    try {
      tf.engine().runKernel(ADAMW.name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('refuses to update a buffer that another tensor shares', () => {
    const p = tf.zeros([4]);
    const alias = tf.clone(p);
    const [m, v, g, halt] = [tf.zeros([4]), tf.zeros([4]), tf.ones([4]), tf.zeros([1])];
    const loss = tf.scalar(1);
    const caught = runFused({ loss, halt, p0: p, m0: m, v0: v, g0: g });
    expect(isShiftmixError(caught) && /weight 0 in place, but 1 other tensor\(s\) share/.test((caught as Error).message)).toBe(true);
    const haltAlias = tf.clone(halt);
    const own = tf.zeros([4]);
    const caughtHalt = runFused({ loss, halt, p0: own, m0: m, v0: v, g0: g });
    expect(isShiftmixError(caughtHalt) && /the halt flag in place/.test((caughtHalt as Error).message)).toBe(true);
    tf.dispose([p, alias, m, v, g, loss, halt, haltAlias, own]);
  });

  it('names what is missing when the halt flag is not passed', () => {
    const [p, m, v, g] = [tf.zeros([4]), tf.zeros([4]), tf.zeros([4]), tf.ones([4])];
    const loss = tf.scalar(1);
    const caught = runFused({ loss, p0: p, m0: m, v0: v, g0: g });
    expect(isShiftmixError(caught) && /float32 halt input of one element/.test((caught as Error).message)).toBe(true);
    tf.dispose([p, m, v, g, loss]);
  });
});
