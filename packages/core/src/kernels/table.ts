import { addLayerNormReference, biasGeluReference, dropoutReference, layerNormReference } from '../layers.js';
import { crossEntropyComposite } from '../loss.js';
import { causalAttentionComposite, packedCausalAttentionComposite } from '../ops/attention.js';
import { fusionBlendReference, hsmAbMixReference } from '../ops/mix.js';
import { groupShiftReference } from '../ops/shift.js';
import type { Tensor } from '../tf.js';
import * as names from './names.js';

/**
 * A fused kernel's contract: what it computes from which inputs and attributes, the
 * kernel that computes its gradients, and the composite of tfjs ops it must match. The
 * backends implement these (packages/webgpu for webgpu, packages/native for wasm); core's
 * ops call them through runFused and fall back to the reference.
 */
export interface FusedKernel {
  name: string;
  /** Its backward kernel (inputs and outputs documented in kernels/gradients.ts). */
  gradient?: string;
  summary: string;
  /** Input name -> shape and dtype. */
  inputs: Record<string, string>;
  /** Attribute name -> meaning. */
  attrs: Record<string, string>;
  outputs: string[];
  /** The composite on any backend, from the kernel's inputs and attributes; none for AdamW (see its summary). */
  reference?: (inputs: Record<string, Tensor>, attrs: Record<string, unknown>) => Tensor | Tensor[];
}

type Args = Record<string, unknown>;
const shiftsOf = (a: Args) => a.shifts as number[];
const attentionOptions = (a: Args) => ({ window: (a.window as number) || null, dropout: a.dropoutRate as number, seed: a.seed as number, training: true });

/** Every fused kernel the library knows. */
export const FUSED_KERNELS: readonly FusedKernel[] = [
  {
    name: names.LAYER_NORM_KERNEL,
    gradient: names.LAYER_NORM_GRAD_KERNEL,
    summary: 'layer norm over the last axis (biased variance, as PyTorch)',
    inputs: { x: 'float32 [..., D]', gamma: 'float32 [D]', beta: 'float32 [D]' },
    attrs: { eps: 'added to the variance (1e-5)' },
    outputs: ['LN(x) [..., D]'],
    reference: ({ x, gamma, beta }, a) => layerNormReference(x, gamma, beta, a.eps as number),
  },
  {
    name: names.ADD_LAYER_NORM_KERNEL,
    gradient: names.LAYER_NORM_GRAD_KERNEL,
    summary: 'the residual add and the layer norm after it',
    inputs: { x: 'float32 [..., D]', h: 'float32, the shape of x', gamma: 'float32 [D]', beta: 'float32 [D]' },
    attrs: { eps: 'added to the variance (1e-5)' },
    outputs: ['x + h', 'LN(x + h)'],
    reference: ({ x, h, gamma, beta }, a) => addLayerNormReference(x, h, gamma, beta, a.eps as number),
  },
  {
    name: names.BIAS_GELU_KERNEL,
    gradient: names.BIAS_GELU_GRAD_KERNEL,
    summary: 'GELU (tanh form) of x plus a bias per column',
    inputs: { x: 'float32 [..., H]', b: 'float32 [H]' },
    attrs: {},
    outputs: ['gelu(x + b)'],
    reference: ({ x, b }) => biasGeluReference(x, b),
  },
  {
    name: names.DROPOUT_KERNEL,
    gradient: names.DROPOUT_KERNEL,
    summary: 'inverted dropout whose mask is a hash of (seed, index); its gradient is itself on dy',
    inputs: { x: 'float32, any shape' },
    attrs: { rate: 'in [0, 1)', seed: 'the mask seed' },
    outputs: ['x * keep / (1 - rate)'],
    reference: ({ x }, a) => dropoutReference(x, a.rate as number, a.seed as number),
  },
  {
    name: names.CROSS_ENTROPY_KERNEL,
    gradient: names.CROSS_ENTROPY_GRAD_KERNEL,
    summary: 'mean cross-entropy over rows with 0 <= target < V (negative targets ignored, one >= V makes it NaN)',
    inputs: { logits: 'float32 [N, V]', targets: 'int32 [N]' },
    attrs: {},
    outputs: ['loss []'],
    reference: ({ logits, targets }) => crossEntropyComposite(logits as never, targets as never),
  },
  {
    name: names.SHIFTMIX_ATTENTION_KERNEL,
    gradient: names.ATTENTION_GRAD_KERNEL,
    summary: 'causal softmax attention, heads split, with dropout on the probabilities by attentionDropoutKeep',
    inputs: { q: 'float32 [B, H, T, hd]', k: 'float32 [B, H, T, hd]', v: 'float32 [B, H, T, hd]' },
    attrs: { window: 'sliding window, 0: every earlier position', dropoutRate: 'on the probabilities', seed: 'mask seed', scale: '1 / sqrt(hd)' },
    outputs: ['[B, H, T, hd]'],
    reference: ({ q, k, v }, a) => causalAttentionComposite(q, k, v, attentionOptions(a)),
  },
  {
    name: names.SHIFTMIX_ATTENTION_PACKED_KERNEL,
    gradient: names.PACKED_ATTENTION_GRAD_KERNEL,
    summary: 'causal attention read from the fused projection [q | k | v], heads merged on output',
    inputs: { qkv: 'float32 [B, T, 3D]' },
    attrs: { heads: 'H, with D = H * hd', window: 'as above', dropoutRate: 'as above', seed: 'as above', scale: '1 / sqrt(hd)' },
    outputs: ['[B, T, D]'],
    reference: ({ qkv }, a) => packedCausalAttentionComposite(qkv, a.heads as number, attentionOptions(a)),
  },
  {
    name: names.HSM_AB_KERNEL,
    gradient: names.HSM_AB_GRAD_KERNEL,
    summary: 'the (a,b) mix a * U + b * S(U)',
    inputs: { u: 'float32 [B, T, D]', a: 'float32 [D]', b: 'float32 [D]' },
    attrs: { shifts: 'one per contiguous channel group' },
    outputs: ['[B, T, D]'],
    reference: ({ u, a, b }, at) => hsmAbMixReference(u as never, a as never, b as never, shiftsOf(at)),
  },
  {
    name: names.FUSION_BLEND_KERNEL,
    gradient: names.FUSION_BLEND_GRAD_KERNEL,
    summary: "learned fusion's blend G * V + (1 - G) * S(V)",
    inputs: { g: 'float32 [B, T, D]', v: 'float32 [B, T, D]' },
    attrs: { shifts: 'one per contiguous channel group' },
    outputs: ['[B, T, D]'],
    reference: ({ g, v }, a) => fusionBlendReference(g as never, v as never, shiftsOf(a)),
  },
  {
    name: names.GROUP_SHIFT_KERNEL,
    gradient: names.GROUP_SHIFT_GRAD_KERNEL,
    summary: 'the per-group shift S: channel group g delayed by shifts[g], zeros flowing in',
    inputs: { x: 'float32 [B, T, D]' },
    attrs: { shifts: 'one per contiguous channel group' },
    outputs: ['S(x) [B, T, D]'],
    reference: ({ x }, a) => groupShiftReference(x as never, shiftsOf(a)),
  },
  {
    name: names.ADAMW_KERNEL,
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
    outputs: ['[norm before clipping, 1 if applied]'],
  },
];

/** The contract of kernel `name`. */
export function fusedKernel(name: string): FusedKernel | undefined {
  return FUSED_KERNELS.find((k) => k.name === name);
}
