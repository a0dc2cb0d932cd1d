export { ATTENTION_GRAD_KERNEL, attentionBackward, attentionForward, attentionGradConfig, attentionKernelConfigs, registerAttentionKernels } from './kernel.js';
export { PACKED_ATTENTION_GRAD_KERNEL, attentionPackedBackward, attentionPackedForward, attentionPackedGradConfig } from './packed.js';
export { AttentionForwardProgram, type AttentionSetup } from './forward.js';
export { AttentionKeyGradProgram, AttentionQueryGradProgram, AttentionRowDotProgram } from './backward.js';
export { attentionStorage, attentionTuning, chooseAttentionTiles, type AttentionTiles } from './tiles.js';
export { attentionDropoutKeep, dropoutThreshold } from './dropout.js';
export { headLayout, type HeadLayout } from './wgsl.js';
