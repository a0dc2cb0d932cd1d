import { MIXER_SPECIFICATION_VERSION, registerMixer, type MixerSpec } from '@shiftmix/core';
import { FUSION_BLEND, GROUP_SHIFT } from '@shiftmix/core/kernels';
import { LEARNED_FUSION_DEFAULTS, learnedFusionParamCount, validateLearnedFusionConfig, type LearnedFusionConfig } from './config.js';
import { LearnedFusionMixer } from './mixer.js';

/** The learned-fusion Hierarchical Shift Mixing mixer, registry name "learned-fusion". */
export const learnedFusionSpec: MixerSpec<LearnedFusionConfig> = {
  specificationVersion: MIXER_SPECIFICATION_VERSION,
  name: 'learned-fusion',
  description: 'Hierarchical shift mixing with a sigmoid gate between each value and its shifted copy (mode "linear": [U | S(U)] W_f)',
  shiftBased: true,
  kernels: [FUSION_BLEND.name, GROUP_SHIFT.name],
  defaults: LEARNED_FUSION_DEFAULTS,
  validate: validateLearnedFusionConfig,
  paramCount: learnedFusionParamCount,
  create: (ctx, config) => new LearnedFusionMixer(ctx, config),
};

/** Adds "learned-fusion" to the registry of @shiftmix/core. */
export function register(): void {
  registerMixer(learnedFusionSpec, { source: '@shiftmix/mixer-learned-fusion' });
}

export {
  LEARNED_FUSION_DEFAULTS,
  LEARNED_FUSION_MODES,
  learnedFusionParamCount,
  validateLearnedFusionConfig,
  type LearnedFusionConfig,
  type LearnedFusionMode,
} from './config.js';
export { LearnedFusionMixer } from './mixer.js';
