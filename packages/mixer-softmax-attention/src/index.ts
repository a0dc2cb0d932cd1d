import { MIXER_SPECIFICATION_VERSION, registerMixer, type MixerSpec } from '@shiftmix/core';
import { SHIFTMIX_ATTENTION_PACKED_KERNEL, SHIFTMIX_ATTENTION_KERNEL } from '@shiftmix/core/kernels';
import { softmaxAttentionDefaults, softmaxAttentionParamCount, validateSoftmaxAttention, type SoftmaxAttentionConfig } from './config.js';
import { SoftmaxAttention } from './mixer.js';

export const softmaxAttentionSpec: MixerSpec<SoftmaxAttentionConfig> = {
  specificationVersion: MIXER_SPECIFICATION_VERSION,
  name: 'softmax-attention',
  description: 'Causal multi-head softmax attention (fused qkv, output projection, attention dropout), with optional sliding window and RoPE',
  shiftBased: false,
  kernels: [SHIFTMIX_ATTENTION_PACKED_KERNEL, SHIFTMIX_ATTENTION_KERNEL],
  defaults: softmaxAttentionDefaults,
  validate: validateSoftmaxAttention,
  paramCount: (ctx) => softmaxAttentionParamCount(ctx),
  // Validating again is cheap and lets create accept a partial config too.
  create: (ctx, config) => new SoftmaxAttention(ctx, validateSoftmaxAttention(config, ctx)),
};

/** Adds softmax-attention to the mixer registry. */
export function register(): void {
  registerMixer(softmaxAttentionSpec, { source: '@shiftmix/mixer-softmax-attention' });
}

export { SoftmaxAttention } from './mixer.js';
export {
  softmaxAttentionDefaults,
  softmaxAttentionParamCount,
  validateSoftmaxAttention,
  type ResolvedSoftmaxAttentionConfig,
  type SoftmaxAttentionConfig,
} from './config.js';
