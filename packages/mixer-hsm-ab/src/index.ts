import { MIXER_SPECIFICATION_VERSION, registerMixer, type MixerSpec } from '@shiftmix/core';
import { HSM_AB } from '@shiftmix/core/kernels';
import { HSM_AB_DEFAULTS, hsmAbParamCount, validateHsmAbConfig, type HsmAbConfig } from './config.js';
import { HsmAbMixer } from './mixer.js';

/** The (a,b) Hierarchical Shift Mixing mixer, registry name "hsm-ab". */
export const hsmAbSpec: MixerSpec<HsmAbConfig> = {
  specificationVersion: MIXER_SPECIFICATION_VERSION,
  name: 'hsm-ab',
  description: 'Hierarchical shift mixing, (a,b) form: Y = a * U + b * S(U), 2D parameters (option projections)',
  shiftBased: true,
  kernels: [HSM_AB.name],
  defaults: HSM_AB_DEFAULTS,
  validate: validateHsmAbConfig,
  paramCount: hsmAbParamCount,
  create: (ctx, config) => new HsmAbMixer(ctx, config),
};

/** Adds "hsm-ab" to the registry of @shiftmix/core. */
export function register(): void {
  registerMixer(hsmAbSpec, { source: '@shiftmix/mixer-hsm-ab' });
}

export { HSM_AB_DEFAULTS, hsmAbParamCount, validateHsmAbConfig, type HsmAbConfig } from './config.js';
export { HsmAbMixer } from './mixer.js';
