export { FUSION_BLEND_KERNEL, HSM_AB_KERNEL, fusionBlend, fusionBlendReference, hasFusedKernel, hsmAbMix, hsmAbMixReference } from './mix.js';
export {
  GROUP_SHIFT_KERNEL,
  checkShifts,
  checkStepInput,
  createShiftRing,
  groupShift,
  groupShiftReference,
  readShiftRing,
  shiftRingSize,
  writeShiftRing,
} from './shift.js';
