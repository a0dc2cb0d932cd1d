import { tf, type Tensor } from '../tf.js';
import {
  ADD_LAYER_NORM_KERNEL,
  ATTENTION_GRAD_KERNEL,
  BIAS_GELU_GRAD_KERNEL,
  BIAS_GELU_KERNEL,
  CROSS_ENTROPY_GRAD_KERNEL,
  CROSS_ENTROPY_KERNEL,
  DROPOUT_KERNEL,
  FUSION_BLEND_GRAD_KERNEL,
  FUSION_BLEND_KERNEL,
  GROUP_SHIFT_GRAD_KERNEL,
  GROUP_SHIFT_KERNEL,
  HSM_AB_GRAD_KERNEL,
  HSM_AB_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  PACKED_ATTENTION_GRAD_KERNEL,
  SHIFTMIX_ATTENTION_KERNEL,
  SHIFTMIX_ATTENTION_PACKED_KERNEL,
} from './names.js';
import { takeForGradient } from './saved.js';

type Saved = Tensor[];
const run = (kernel: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap): Tensor[] => {
  const out = tf.engine().runKernel(kernel, inputs, attrs);
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
};

// Each backward kernel returns every input gradient at once; backpropagate calls each
// closure inside its own tidy, so the kernel runs in the gradient function's scope and the
// closures only hand out its results.
const gradients: tf.GradConfig[] = [
  {
    kernelName: SHIFTMIX_ATTENTION_KERNEL,
    inputsToSave: ['q', 'k', 'v'],
    outputsToSave: [true],
    gradFunc: (dy, [q, k, v, o]: Saved, attrs) => {
      const lse = takeForGradient(o);
      const [dq, dk, dv] = run(ATTENTION_GRAD_KERNEL, { dy: dy as Tensor, q, k, v, o, ...(lse ? { lse } : {}) }, attrs);
      return { q: () => dq, k: () => dk, v: () => dv };
    },
  },
  {
    kernelName: SHIFTMIX_ATTENTION_PACKED_KERNEL,
    inputsToSave: ['qkv'],
    outputsToSave: [true],
    gradFunc: (dy, [qkv, o]: Saved, attrs) => {
      const lse = takeForGradient(o);
      const [dqkv] = run(PACKED_ATTENTION_GRAD_KERNEL, { dy: dy as Tensor, qkv, o, ...(lse ? { lse } : {}) }, attrs);
      return { qkv: () => dqkv };
    },
  },
  {
    kernelName: LAYER_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, [x, gamma]: Saved, attrs) => {
      const [dx, dgamma, dbeta] = run(LAYER_NORM_GRAD_KERNEL, { dy: dy as Tensor, x, gamma }, attrs);
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  },
  {
    // The sum's gradient joins dx inside the backward kernel; x and h get the same
    // gradient, h as a clone so that accumulating into one never frees the other's.
    kernelName: ADD_LAYER_NORM_KERNEL,
    inputsToSave: ['gamma'],
    outputsToSave: [true, false],
    gradFunc: (dys, [gamma, sum]: Saved, attrs) => {
      const [dsum, dnormed] = dys as Tensor[];
      const [dx, dgamma, dbeta] = run(LAYER_NORM_GRAD_KERNEL, { dy: dnormed, x: sum, gamma, dres: dsum }, attrs);
      return { x: () => dx, h: () => tf.clone(dx), gamma: () => dgamma, beta: () => dbeta };
    },
  },
  {
    kernelName: BIAS_GELU_KERNEL,
    inputsToSave: ['x', 'b'],
    gradFunc: (dy, [x, b]: Saved) => {
      const [dx, db] = run(BIAS_GELU_GRAD_KERNEL, { dy: dy as Tensor, x, b });
      return { x: () => dx, b: () => db };
    },
  },
  {
    kernelName: CROSS_ENTROPY_KERNEL,
    inputsToSave: ['logits', 'targets'],
    outputsToSave: [true],
    gradFunc: (dy, [logits, targets, loss]: Saved) => {
      const stats = takeForGradient(loss);
      const [dlogits] = run(CROSS_ENTROPY_GRAD_KERNEL, { dy: dy as Tensor, logits, targets, ...(stats ? { stats } : {}) });
      // Targets are integers: tfjs asks for their gradient only if a caller differentiates them.
      return { logits: () => dlogits, targets: () => tf.zerosLike(targets) };
    },
  },
  {
    // The mask is a hash of (seed, index), so the backward is the same kernel on dy.
    kernelName: DROPOUT_KERNEL,
    inputsToSave: [],
    gradFunc: (dy, _saved, attrs) => ({ x: () => run(DROPOUT_KERNEL, { x: dy as Tensor }, attrs)[0] }),
  },
  {
    kernelName: HSM_AB_KERNEL,
    inputsToSave: ['u', 'a', 'b'],
    gradFunc: (dy, [u, a, b]: Saved, attrs) => {
      const [du, da, db] = run(HSM_AB_GRAD_KERNEL, { dy: dy as Tensor, u, a, b }, attrs);
      return { u: () => du, a: () => da, b: () => db };
    },
  },
  {
    kernelName: GROUP_SHIFT_KERNEL,
    inputsToSave: [],
    gradFunc: (dy, _saved, attrs) => ({ x: () => run(GROUP_SHIFT_GRAD_KERNEL, { dy: dy as Tensor }, attrs)[0] }),
  },
  {
    kernelName: FUSION_BLEND_KERNEL,
    inputsToSave: ['g', 'v'],
    gradFunc: (dy, [g, v]: Saved, attrs) => {
      const [dg, dv] = run(FUSION_BLEND_GRAD_KERNEL, { dy: dy as Tensor, g, v }, attrs);
      return { g: () => dg, v: () => dv };
    },
  },
];

/**
 * Registers the gradient of every fused kernel (idempotent). Gradients belong to a kernel
 * name, not to a backend: each backend that registers a forward kernel registers its
 * backward kernel under the name above, and these gradients dispatch to it.
 */
export function registerFusedGradients(): void {
  for (const config of gradients) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
}
