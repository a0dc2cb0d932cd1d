import { ShiftmixModel, getMixer, hasMixer, selectBackend, tf } from '@shiftmix/core';
import {
  ADD_LAYER_NORM,
  BIAS_GELU,
  BIAS_GELU_GRAD,
  CROSS_ENTROPY,
  CROSS_ENTROPY_GRAD,
  findKernel,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  type Compared,
  type FusedKernel,
  type ParityCheck,
} from '@shiftmix/core/kernels';

// The whole model on webgpu against the composite path on cpu: every kernel of a training
// step at once, where the kernel objects' own checks take one kernel each.

type Grads = Map<string, { shape: number[]; values: Float32Array }>;

const [BATCH, TIME, VOCAB] = [2, 13, 17];
const tokens = Array.from({ length: BATCH }, (_, b) => Array.from({ length: TIME }, (_, t) => (b * 7 + t * 5 + (t % 3)) % VOCAB));
const targets = tokens.map((row, b) => row.map((x, t) => (t % 4 === 3 ? -1 : (x * 3 + b + t) % VOCAB)));
// hd 8 and D = 24 (vec4 paths), FFN 40; hsm-ab's shifts reach past T; one ignored target in
// four. The second attention block rotates by RoPE, so both kernels softmax-attention's
// spec lists run: the packed one without RoPE, the split one with it.
const MODEL = {
  vocabSize: VOCAB,
  dim: 24,
  heads: 3,
  contextLength: 16,
  layers: 'hsm-ab,softmax-attention,hsm-ab,softmax-attention(rope=true)',
  ffn: 40,
  seed: 5,
};
// The model's mixers and their packages: this package does not depend on them, so whoever runs the checks registers them.
const MIXERS = [
  ['hsm-ab', '@shiftmix/mixer-hsm-ab'],
  ['softmax-attention', '@shiftmix/mixer-softmax-attention'],
];
// What every block runs whatever its mixer (its norms and its FFN's bias + GELU), and the loss.
const BLOCK_KERNELS = [LAYER_NORM, ADD_LAYER_NORM, LAYER_NORM_GRAD, BIAS_GELU, BIAS_GELU_GRAD, CROSS_ENTROPY, CROSS_ENTROPY_GRAD];

/** The fused kernels the model's mixers run, as their registered specs list them, each with its backward kernel. */
function mixerKernels(): string[] {
  return MIXERS.flatMap(([mixer]) => (hasMixer(mixer) ? (getMixer(mixer).kernels ?? []) : [])).flatMap((name) => {
    const backward = (findKernel(name) as FusedKernel | undefined)?.backward;
    return backward ? [name, backward.name] : [name];
  });
}

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
  // Read once run() is done, which needs the mixers registered: their specs name their kernels.
  get kernels() {
    return [...mixerKernels(), ...BLOCK_KERNELS.map((k) => k.name)];
  },
  async run() {
    for (const [mixer, pkg] of MIXERS) {
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

export const modelChecks: ParityCheck[] = [modelLevel];
