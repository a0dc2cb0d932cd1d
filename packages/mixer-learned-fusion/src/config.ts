import { ShiftmixError, checkShifts, type MixerContext } from '@shiftmix/core';

export type LearnedFusionMode = 'gate' | 'linear';
export const LEARNED_FUSION_MODES: readonly LearnedFusionMode[] = ['gate', 'linear'];

export interface LearnedFusionConfig {
  /**
   * `gate`: Y = (G * V + (1 - G) * S(V)) W_o with V = U W_v, G = sigmoid([U | S(U)] W_g + c).
   * `linear`: Y = [U | S(U)] W_f.
   */
  mode: LearnedFusionMode;
}

export const LEARNED_FUSION_DEFAULTS: Readonly<LearnedFusionConfig> = Object.freeze({ mode: 'gate' });

/** Fills defaults and rejects unknown keys and bad values; also checks the shifts the stack assigned. */
export function validateLearnedFusionConfig(config: unknown, ctx: MixerContext): LearnedFusionConfig {
  checkShifts(ctx.shifts, ctx.dim, 'learned-fusion');
  if (config === undefined || config === null) return { ...LEARNED_FUSION_DEFAULTS };
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new ShiftmixError(
      `learned-fusion's config must be an object, not ${Array.isArray(config) ? 'an array' : typeof config}`,
      'Pass e.g. {"mode": "linear"}, or nothing for the defaults',
      'E_MIXER_CONFIG',
    );
  }
  const result: LearnedFusionConfig = { ...LEARNED_FUSION_DEFAULTS };
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'mode') {
      throw new ShiftmixError(`learned-fusion has no option "${key}"`, 'Its only option is: mode', 'E_MIXER_CONFIG');
    }
    if (value === undefined) continue;
    if (!LEARNED_FUSION_MODES.includes(value as LearnedFusionMode)) {
      throw new ShiftmixError(
        `learned-fusion option "mode" must be "gate" or "linear", not ${JSON.stringify(value)}`,
        'Write "mode": "gate" (the default) or "mode": "linear"',
        'E_MIXER_CONFIG',
      );
    }
    result.mode = value as LearnedFusionMode;
  }
  return result;
}

/** gate: W_v, W_o (D^2 each), W_g (2 D^2), c (D); linear: W_f (2 D^2). */
export function learnedFusionParamCount(ctx: MixerContext, config: LearnedFusionConfig): number {
  const d = ctx.dim;
  return config.mode === 'gate' ? 4 * d * d + d : 2 * d * d;
}
