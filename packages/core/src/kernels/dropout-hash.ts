/**
 * The hash every fused dropout mask is drawn from, on every backend: a kept element is
 * one whose hash of (seed, position) is at least rate * 2^32, so the same seed gives the
 * same mask on webgpu and on wasm's native kernels.
 */

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

/** The seed as the 32 bits the kernels see (an i32). */
export function dropoutSeedBits(seed: number): number {
  return Math.floor(seed) | 0;
}

/**
 * Whether the fused attention kernels keep probability (q, k) of head bh (flat b * H + h)
 * at this seed, length T and rate: the kernels' mask in JavaScript, for references.
 */
export function attentionDropoutKeep(seed: number, bh: number, q: number, k: number, length: number, rate: number): boolean {
  const seedBH = mix32(mix32(dropoutSeedBits(seed)) ^ bh);
  const h = mix32(mix32((Math.imul(q, length) + k) >>> 0) ^ seedBH);
  return h >= dropoutThreshold(rate);
}

/** The two per-seed keys the elementwise dropout combines with each index. */
export function dropoutSeedKeys(seed: number): [number, number] {
  return [mix32(seed), mix32((seed ^ 0x5bd1e995) >>> 0)];
}

/** The 32-bit hash of element `index` under `seed` that DROPOUT_KERNEL keeps when >= dropoutThreshold(rate). */
export function dropoutHash(seed: number, index: number): number {
  const [k1, k2] = dropoutSeedKeys(seed >>> 0);
  return mix32(mix32((index + k1) >>> 0) ^ k2);
}

/** The multiplier of kept elements, as the float32 the kernels use. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}
