/**
 * Composite references of the fused kernels: core's plain-tfjs ops (autodiffed by tfjs on
 * any backend), under the names the parity tests and the GPU benchmark use.
 */
export {
  fusionBlendReference as fusionBlendComposite,
  groupShift as groupShiftComposite,
  hsmAbMixReference as hsmAbComposite,
} from '@shiftmix/core';
