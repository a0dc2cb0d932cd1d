// The hash and its thresholds live in core, shared with the wasm backend's native kernels.
export { attentionDropoutKeep, dropoutSeedBits, dropoutThreshold, mix32 } from '@shiftmix/core/kernels';

/** mix32 in WGSL, the hash every dropout kernel draws its masks from. */
export const MIX32_WGSL = `fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}`;
