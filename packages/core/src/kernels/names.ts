// The tfjs kernel name of every fused kernel the library knows, forward and backward.
// What each computes, its inputs and attributes and its composite reference are in
// table.ts; the backends register kernels under these names (@shiftmix/webgpu on webgpu,
// @shiftmix/native under wasm) and core's ops dispatch to them through runFused.

export const LAYER_NORM_KERNEL = 'ShiftmixLayerNorm';
export const ADD_LAYER_NORM_KERNEL = 'ShiftmixAddLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'ShiftmixLayerNormGrad';
export const BIAS_GELU_KERNEL = 'ShiftmixBiasGelu';
export const BIAS_GELU_GRAD_KERNEL = 'ShiftmixBiasGeluGrad';
export const DROPOUT_KERNEL = 'ShiftmixDropout';
export const CROSS_ENTROPY_KERNEL = 'ShiftmixCrossEntropy';
export const CROSS_ENTROPY_GRAD_KERNEL = 'ShiftmixCrossEntropyGrad';
export const SHIFTMIX_ATTENTION_KERNEL = 'ShiftmixAttention';
export const ATTENTION_GRAD_KERNEL = 'ShiftmixAttentionGrad';
export const SHIFTMIX_ATTENTION_PACKED_KERNEL = 'ShiftmixAttentionPacked';
export const PACKED_ATTENTION_GRAD_KERNEL = 'ShiftmixAttentionPackedGrad';
export const HSM_AB_KERNEL = 'ShiftmixHsmAb';
export const HSM_AB_GRAD_KERNEL = 'ShiftmixHsmAbGrad';
export const FUSION_BLEND_KERNEL = 'ShiftmixFusionBlend';
export const FUSION_BLEND_GRAD_KERNEL = 'ShiftmixFusionBlendGrad';
export const GROUP_SHIFT_KERNEL = 'ShiftmixGroupShift';
export const GROUP_SHIFT_GRAD_KERNEL = 'ShiftmixGroupShiftGrad';
export const ADAMW_KERNEL = 'ShiftmixAdamW';
