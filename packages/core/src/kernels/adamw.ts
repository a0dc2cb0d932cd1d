import { tf, type Tensor, type Variable } from '../tf.js';
import { AdamW } from '../train/adamw.js';
import { clipScale, globalNorm } from '../train/clip.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { normal, type Compared, type ParityCheck } from './parity.js';

// Global-norm clipping and AdamW over every weight of a model in one kernel call, in place,
// with the halt flag that keeps a step that is not finite (and the steps queued behind it)
// from writing. Its reference is AdamW.apply, the optimizer's unfused path.

export type AdamWKernelAttrs = {
  count: number;
  decays: number[];
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  maxNorm: number;
};

// Matrices (decayed) and vectors (not), sizes with and without a multiple of 4, one past a
// sum-of-squares workgroup's share, and one element.
const SHAPES: Record<string, number[]> = { w: [6, 5], b: [7], e: [130, 160], g: [8], s: [1] };
const OPTIONS = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

const weights = (seed: number) => new Map(Object.entries(SHAPES).map(([name, shape], i): [string, Variable] => [name, tf.variable(normal(shape, seed + i))]));
const gradients = (step: number) =>
  new Map(Object.entries(SHAPES).map(([name, shape], i): [string, Tensor] => [name, tf.mul(normal(shape, 100 * step + i), 0.5)]));

/** Three steps of clipAndApply (the fused kernel) against apply() with the clip scale of the norm read on the host. */
const threeSteps = (maxNorm: number): ParityCheck => ({
  name: `AdamW.clipAndApply, 3 steps, clip ${maxNorm || 'off'}`,
  kernels: [ADAMW.name],
  async run() {
    const [fusedWeights, compositeWeights] = [weights(1), weights(1)];
    const [fused, composite] = [new AdamW(fusedWeights, OPTIONS), new AdamW(compositeWeights, OPTIONS)];
    const out: Compared[] = [];
    for (const [step, lr] of [
      [1, 1e-2],
      [2, 5e-3],
      [3, 2e-2],
    ]) {
      const grads = gradients(step);
      const result = await fused.clipAndApply(grads, tf.scalar(1.5), lr, maxNorm);
      const norm = (await globalNorm(grads.values()).data())[0];
      composite.apply(grads, lr, clipScale(norm, maxNorm));
      if (!result.applied) throw new Error(`step ${step}: the fused update was not applied`);
      out.push({ what: `gradient norm, step ${step}`, got: tf.scalar(result.norm), want: tf.scalar(norm), tol: 1e-5 });
    }
    const [fs, cs] = [fused.getState(), composite.getState()];
    for (const name of Object.keys(SHAPES)) {
      out.push({ what: `p ${name}`, got: tf.clone(fusedWeights.get(name)!), want: tf.clone(compositeWeights.get(name)!), tol: 1e-5 });
      out.push({ what: `m ${name}`, got: tf.clone(fs.m.get(name)!), want: tf.clone(cs.m.get(name)!), tol: 1e-5 });
      out.push({ what: `v ${name}`, got: tf.clone(fs.v.get(name)!), want: tf.clone(cs.v.get(name)!), tol: 1e-5 });
    }
    fused.dispose();
    composite.dispose();
    tf.dispose([...fusedWeights.values(), ...compositeWeights.values()]);
    return out;
  },
});

/**
 * A step with a NaN gradient and a finite step queued behind it before either is read back:
 * the halt flag must keep both from writing, so the weights stay as they were.
 */
const halt = (): ParityCheck => ({
  name: 'AdamW.clipAndApply halt: a NaN step and the step queued behind it',
  kernels: [ADAMW.name],
  async run() {
    const [params, initial] = [weights(2), weights(2)];
    const optimizer = new AdamW(params, OPTIONS);
    const bad = gradients(1);
    const poisoned = tf.mul(bad.get('e')!, Number.NaN);
    bad.get('e')!.dispose();
    bad.set('e', poisoned);
    const good = gradients(2);
    const loss = tf.scalar(1.5);
    const results = await Promise.all([optimizer.clipAndApply(bad, loss, 1e-2, 1), optimizer.clipAndApply(good, loss, 1e-2, 1)]);
    if (results.some((r) => r.applied)) throw new Error(`applied: ${results.map((r) => r.applied).join(', ')}; both steps should have been skipped`);
    const out: Compared[] = [...params].map(([name, p]) => ({ what: `p ${name} unchanged`, got: tf.clone(p), want: tf.clone(initial.get(name)!), tol: 0 }));
    optimizer.dispose();
    tf.dispose([loss, ...bad.values(), ...good.values(), ...params.values(), ...initial.values()]);
    return out;
  },
});

export const ADAMW: FusedKernel<AdamWKernelAttrs> = defineKernel<AdamWKernelAttrs>({
  name: 'ShiftmixAdamW',
  summary: "global-norm clipping and AdamW over every weight, in place; its reference is AdamW.apply (the optimizer's unfused path)",
  inputs: { loss: 'float32 []', halt: 'float32 [1], set on a step that is not finite', 'p<i>, m<i>, v<i>, g<i>': 'weight, moments and gradient i' },
  attrs: {
    count: 'weights',
    decays: '1 per decayed weight',
    lr: '',
    beta1: '',
    beta2: '',
    eps: '',
    weightDecay: '',
    step: 'after this update',
    maxNorm: '0: no clipping',
  },
  outputs: { report: '[norm before clipping, 1 if applied]' },
  shapes: () => [[2]],
  checks: () => [threeSteps(0), threeSteps(1), halt()],
});
