export {
  FUSION_BLEND_KERNEL,
  HSM_AB_KERNEL,
  fusionBlend,
  fusionBlendReference,
  hasFusedKernel,
  hsmAbMix,
  hsmAbMixReference,
} from './mix.js';
export { checkShifts, checkStepInput, createShiftRing, groupShift, readShiftRing, shiftRingSize, writeShiftRing } from './shift.js';
