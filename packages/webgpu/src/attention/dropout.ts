/** lowbias32 (Chris Wellons' integer hash): a bijection of u32 with good avalanche, cheap on a GPU. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash values below this are dropped: rate * 2^32, clamped to the u32 range. */
export function dropoutThreshold(rate: number): number {
  return Math.min(2 ** 32 - 1, Math.max(0, Math.round(rate * 2 ** 32)));
}

/** The seed as the 32 bits the kernels see (an i32 uniform). */
export function dropoutSeedBits(seed: number): number {
  return Math.floor(seed) | 0;
}

/**
 * Whether the fused attention kernels keep probability (q, k) of head bh (flat b * H + h)
 * at this seed, length T and rate: the WGSL keepScale() in JavaScript, for references.
 */
export function attentionDropoutKeep(seed: number, bh: number, q: number, k: number, length: number, rate: number): boolean {
  const seedBH = mix32(mix32(dropoutSeedBits(seed)) ^ bh);
  const h = mix32(mix32((Math.imul(q, length) + k) >>> 0) ^ seedBH);
  return h >= dropoutThreshold(rate);
}

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
