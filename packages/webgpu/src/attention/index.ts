export { attentionBackward, attentionForward } from './kernel.js';
export { attentionPackedBackward, attentionPackedForward } from './packed.js';
export { AttentionForwardProgram, type AttentionSetup } from './forward.js';
export { AttentionKeyGradProgram, AttentionQueryGradProgram, AttentionRowDotProgram } from './backward.js';
export {
  ATTENTION_BLOCKS,
  EXTRA_ATTENTION_BLOCKS,
  attentionBlockFits,
  attentionStorage,
  attentionTuning,
  chooseAttentionTiles,
  type AttentionTiles,
} from './tiles.js';
export {
  applyAttentionTuning,
  clearAttentionTuning,
  tuneAttentionTiles,
  type AttentionBlockTiming,
  type AttentionTuningResult,
  type TuneAttentionOptions,
} from './tune.js';
export { attentionDropoutKeep, dropoutThreshold } from './dropout.js';
export { headLayout, type HeadLayout } from './wgsl.js';
