// @shiftmix/core/kernels: what a backend package needs to plug into core, and nothing a
// model's user does: every fused kernel's name, contract and composite reference, the
// dispatch the ops use, the gradients, what a kernel keeps for its backward, the dropout
// hashes every backend shares, and the registration of a backend provider.
export * from './names.js';
export { FUSED_KERNELS, fusedKernel, type FusedKernel } from './table.js';
export { hasKernel, runFused } from './dispatch.js';
export { registerFusedGradients } from './gradients.js';
export { keepForGradient, takeForGradient } from './saved.js';
export { attentionDropoutKeep, dropoutHash, dropoutScale, dropoutSeedBits, dropoutSeedKeys, dropoutThreshold, mix32 } from './dropout-hash.js';
export { registerBackendProvider, type BackendProvider } from '../backend.js';
export { registerMissingWasmKernels, unsortedSegmentSumReference } from '../backends/wasm-kernels.js';
export { addLayerNormReference, biasGeluReference, dropoutReference, layerNormReference } from '../layers.js';
export { crossEntropyComposite } from '../loss.js';
export { causalAttentionComposite, hasFusedAttention, hasPackedAttention, packedCausalAttentionComposite } from '../ops/attention.js';
export { fusionBlendReference, hasFusedKernel, hsmAbMixReference } from '../ops/mix.js';
export { groupShiftReference } from '../ops/shift.js';
