import { AdamW, ShiftmixModel, clipScale, globalNorm, hasMixer, selectBackend, tf, type Tensor, type Variable } from '@shiftmix/core';
import {
  ADAMW_KERNEL,
  ADD_LAYER_NORM_KERNEL,
  BIAS_GELU_GRAD_KERNEL,
  BIAS_GELU_KERNEL,
  CROSS_ENTROPY_GRAD_KERNEL,
  CROSS_ENTROPY_KERNEL,
  HSM_AB_GRAD_KERNEL,
  HSM_AB_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  PACKED_ATTENTION_GRAD_KERNEL,
  SHIFTMIX_ATTENTION_PACKED_KERNEL,
} from '@shiftmix/core/kernels';
import { normal, type Compared, type ParityCheck } from './compare.js';

// Matrices (decayed) and vectors (not), sizes with and without a multiple of 4, one past
// a sum-of-squares workgroup's share, and one element: the Node test's weights.
const SHAPES: Record<string, number[]> = { w: [6, 5], b: [7], e: [130, 160], g: [8], s: [1] };
const OPTIONS = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

const weights = (seed: number) => new Map(Object.entries(SHAPES).map(([name, shape], i): [string, Variable] => [name, tf.variable(normal(shape, seed + i))]));
const gradients = (step: number) =>
  new Map(Object.entries(SHAPES).map(([name, shape], i): [string, Tensor] => [name, tf.mul(normal(shape, 100 * step + i), 0.5)]));

/** Three steps of clipAndApply (the fused kernel) against apply() with the clip scale of the norm read on the host. */
const adamw = (maxNorm: number): ParityCheck => ({
  name: `AdamW.clipAndApply, 3 steps, clip ${maxNorm || 'off'}`,
  kernels: [ADAMW_KERNEL],
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
      const normTensor = globalNorm(grads.values());
      const norm = (await normTensor.data())[0];
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
 * the device's halt flag must keep both from writing, so the weights stay as they were.
 */
const adamwHalt: ParityCheck = {
  name: 'AdamW.clipAndApply halt: a NaN step and the step queued behind it',
  kernels: [ADAMW_KERNEL],
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
};

type Grads = Map<string, { shape: number[]; values: Float32Array }>;

const [BATCH, TIME, VOCAB] = [2, 13, 17];
const tokens = Array.from({ length: BATCH }, (_, b) => Array.from({ length: TIME }, (_, t) => (b * 7 + t * 5 + (t % 3)) % VOCAB));
const targets = tokens.map((row, b) => row.map((x, t) => (t % 4 === 3 ? -1 : (x * 3 + b + t) % VOCAB)));
// hd 8 and D = 24 (vec4 paths), FFN 40; hsm-ab's shifts reach past T; one ignored target in four.
const MODEL = { vocabSize: VOCAB, dim: 24, heads: 3, contextLength: 16, layers: 'hsm-ab,softmax-attention,hsm-ab', ffn: 40, seed: 5 };

/** A fresh model's loss and every weight's gradient, read back to the host (they outlive the backend switch). */
async function lossAndGrads(backend: 'cpu' | 'webgpu'): Promise<{ loss: number; grads: Grads }> {
  await selectBackend(backend);
  const model = ShiftmixModel.create(MODEL);
  const [x, y] = [tf.tensor2d(tokens, undefined, 'int32'), tf.tensor2d(targets, undefined, 'int32')];
  const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: false }), [...model.weights().values()]);
  const loss = (await value.data())[0];
  const byName: Grads = new Map();
  for (const [name, v] of model.weights()) byName.set(name, { shape: grads[v.name].shape, values: (await grads[v.name].data()) as Float32Array });
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: byName };
}

/** The whole model (both mixers, the norms, the FFN, the loss) on webgpu against the composite path on cpu. */
const modelLevel: ParityCheck = {
  name: `model ${MODEL.layers} D ${MODEL.dim} H ${MODEL.heads} vs cpu`,
  kernels: [
    HSM_AB_KERNEL,
    HSM_AB_GRAD_KERNEL,
    SHIFTMIX_ATTENTION_PACKED_KERNEL,
    PACKED_ATTENTION_GRAD_KERNEL,
    LAYER_NORM_KERNEL,
    ADD_LAYER_NORM_KERNEL,
    LAYER_NORM_GRAD_KERNEL,
    BIAS_GELU_KERNEL,
    BIAS_GELU_GRAD_KERNEL,
    CROSS_ENTROPY_KERNEL,
    CROSS_ENTROPY_GRAD_KERNEL,
  ],
  async run() {
    // This package does not depend on the mixers: whoever runs the checks registers them.
    for (const [mixer, pkg] of [
      ['hsm-ab', '@shiftmix/mixer-hsm-ab'],
      ['softmax-attention', '@shiftmix/mixer-softmax-attention'],
    ]) {
      if (!hasMixer(mixer)) throw new Error(`the model check needs the ${mixer} mixer: call register() of ${pkg} before running the checks`);
    }
    let cpu: { loss: number; grads: Grads };
    try {
      cpu = await lossAndGrads('cpu');
    } finally {
      await selectBackend('webgpu');
    }
    const gpu = await lossAndGrads('webgpu');
    const out: Compared[] = [{ what: 'loss', got: tf.scalar(gpu.loss), want: tf.scalar(cpu.loss), tol: 1e-4 }];
    for (const [name, want] of cpu.grads) {
      const got = gpu.grads.get(name);
      if (!got) throw new Error(`no gradient for ${name} on webgpu`);
      if (!want.values.some((v) => v !== 0)) throw new Error(`${name} has no gradient on cpu: the comparison would prove nothing`);
      out.push({ what: `d ${name}`, got: tf.tensor(got.values, got.shape), want: tf.tensor(want.values, want.shape), tol: 1e-4 });
    }
    return out;
  },
};

export const trainChecks: ParityCheck[] = [adamw(0), adamw(1), adamwHalt, modelLevel];
