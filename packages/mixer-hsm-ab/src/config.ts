import { ShiftmixError, checkShifts, type MixerContext } from '@shiftmix/core';

export interface HsmAbConfig {
  /** Wrap the mix in V = U W_in and Y' = Y W_out (2 D^2 more parameters). */
  projections: boolean;
}

export const HSM_AB_DEFAULTS: Readonly<HsmAbConfig> = Object.freeze({ projections: false });

const TYPES: Record<keyof HsmAbConfig, 'boolean'> = { projections: 'boolean' };

/** Fills defaults and rejects unknown keys and wrong types; also checks the shifts the stack assigned. */
export function validateHsmAbConfig(config: unknown, ctx: MixerContext): HsmAbConfig {
  checkShifts(ctx.shifts, ctx.dim, 'hsm-ab');
  if (config === undefined || config === null) return { ...HSM_AB_DEFAULTS };
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new ShiftmixError(
      `hsm-ab's config must be an object, not ${Array.isArray(config) ? 'an array' : typeof config}`,
      'Pass e.g. {"projections": true}, or nothing for the defaults',
      'E_MIXER_CONFIG',
    );
  }
  const result: HsmAbConfig = { ...HSM_AB_DEFAULTS };
  for (const [key, value] of Object.entries(config)) {
    if (!(key in TYPES)) {
      throw new ShiftmixError(`hsm-ab has no option "${key}"`, `Its options are: ${Object.keys(TYPES).join(', ')}`, 'E_MIXER_CONFIG');
    }
    if (value === undefined) continue;
    if (typeof value !== TYPES[key as keyof HsmAbConfig]) {
      throw new ShiftmixError(
        `hsm-ab option "${key}" must be a ${TYPES[key as keyof HsmAbConfig]}, not ${JSON.stringify(value)}`,
        `Write "${key}": true or "${key}": false`,
        'E_MIXER_CONFIG',
      );
    }
    result[key as keyof HsmAbConfig] = value as boolean;
  }
  return result;
}

/** 2D for a and b, plus 2 D^2 for W_in and W_out with projections. */
export function hsmAbParamCount(ctx: MixerContext, config: HsmAbConfig): number {
  return 2 * ctx.dim + (config.projections ? 2 * ctx.dim * ctx.dim : 0);
}
