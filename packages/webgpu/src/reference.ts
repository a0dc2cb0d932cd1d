/**
 * Composite references of the fused kernels: core's plain-tfjs ops (autodiffed by tfjs on
 * any backend), under the names the parity tests and the GPU benchmark use.
 */
export { groupShift as groupShiftComposite } from '@shiftmix/core';
export { fusionBlendReference as fusionBlendComposite, hsmAbMixReference as hsmAbComposite } from '@shiftmix/core/kernels';
