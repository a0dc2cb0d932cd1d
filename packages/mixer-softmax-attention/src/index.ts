import { MIXER_SPECIFICATION_VERSION, registerMixer, type MixerSpec } from '@shiftmix/core';
import { ATTENTION, PACKED_ATTENTION } from '@shiftmix/core/kernels';
import { softmaxAttentionDefaults, softmaxAttentionParamCount, validateSoftmaxAttention, type SoftmaxAttentionConfig } from './config.js';
import { SoftmaxAttention } from './mixer.js';

export const softmaxAttentionSpec: MixerSpec<SoftmaxAttentionConfig> = {
  specificationVersion: MIXER_SPECIFICATION_VERSION,
  name: 'softmax-attention',
  description: 'Causal multi-head softmax attention (fused qkv, output projection, attention dropout), with optional sliding window and RoPE',
  shiftBased: false,
  kernels: [PACKED_ATTENTION.name, ATTENTION.name],
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
