/**
 * WGSL pieces shared by the flash-attention kernels. Rows of q, k, v, o and their
 * gradients ([B, H, T, hd], row = bh * T + t) are moved as vec4 groups of the head
 * dimension: bound as vec4 arrays when hd % 4 == 0, else read element by element with
 * the tail group zero-filled. In workgroup memory a row takes HD4 + 1 vec4 slots, the
 * extra slot shifting consecutive rows across memory banks.
 */
export interface HeadLayout {
  hd: number;
  /** vec4 groups per row, ceil(hd / 4). */
  hd4: number;
  /** Row stride in workgroup memory, in vec4. */
  s4: number;
  /** hd % 4 == 0: rows bound as vec4 arrays. */
  vec: boolean;
}

export function headLayout(hd: number): HeadLayout {
  const hd4 = Math.ceil(hd / 4);
  return { hd, hd4, s4: hd4 + 1, vec: hd % 4 === 0 };
}

/** A WGSL f32 literal. */
export function f32(value: number): string {
  const text = String(Math.fround(value));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** `fn read_<buf>(row, d4) -> vec4<f32>`: one vec4 group of a row. */
export function rowReader(buf: string, layout: HeadLayout): string {
  if (layout.vec) return `fn read_${buf}(row: i32, d4: i32) -> vec4<f32> { return ${buf}[row * ${layout.hd4} + d4]; }`;
  const element = (e: number) => `select(0.0, ${buf}[min(base + ${e}, last)], d4 * 4 + ${e} < ${layout.hd})`;
  return `fn read_${buf}(row: i32, d4: i32) -> vec4<f32> {
  let base = row * ${layout.hd} + d4 * 4;
  let last = row * ${layout.hd} + ${layout.hd - 1};
  return vec4<f32>(${[0, 1, 2, 3].map(element).join(', ')});
}`;
}

/** Statement writing vec4 `value` to group `d4` (< HD4) of `row` of output `buf`. */
export function rowWrite(buf: string, layout: HeadLayout, row: string, d4: string, value: string): string {
  if (layout.vec) return `${buf}[(${row}) * ${layout.hd4} + ${d4}] = ${value};`;
  return `{ let w = ${value}; for (var e = 0; e < 4; e++) { if ((${d4}) * 4 + e < ${layout.hd}) { ${buf}[(${row}) * ${layout.hd} + (${d4}) * 4 + e] = w[e]; } } }`;
}

/**
 * Loop copying rows start .. start + rows - 1 of head `bh` from `buf` into workgroup
 * array `dst` (rows past T read zero), spread over NT threads indexed by `tid`.
 */
export function tileLoad(dst: string, buf: string, layout: HeadLayout, start: string, rows: number): string {
  return `for (var idx = tid; idx < ${rows * layout.hd4}; idx += NT) {
      let r = idx / ${layout.hd4};
      let d4 = idx - r * ${layout.hd4};
      let t = ${start} + r;
      if (t < uniforms.T) { ${dst}[r * ${layout.s4} + d4] = read_${buf}(bh * uniforms.T + t, d4); }
      else { ${dst}[r * ${layout.s4} + d4] = vec4<f32>(0.0); }
    }`;
}

/**
 * Causal (and windowed) visibility of key k from query q; window 0 means unlimited.
 * fullTile: every key of [k0, k0 + kn) is visible from every query of [q0, q0 + qn), so
 * the kernels skip the per-entry test on the blocks below the diagonal.
 */
export const VISIBLE = `fn visible(q: i32, k: i32) -> bool {
  return k <= q && q < uniforms.T && (uniforms.window == 0 || q - k < uniforms.window);
}
fn fullTile(q0: i32, qn: i32, k0: i32, kn: i32) -> bool {
  return k0 + kn - 1 <= q0 && q0 + qn <= uniforms.T && (uniforms.window == 0 || q0 + qn - 1 - k0 < uniforms.window);
}`;

/**
 * Dropout on the probabilities: a counter-based hash of (seed, bh, q, k) decides each
 * entry, so the forward and both backward kernels draw the same mask without storing
 * it. `keepScale(q, k)` is 0 for a dropped entry, 1 / (1 - rate) for a kept one.
 * attentionDropoutKeep in dropout.ts is the same function in JavaScript.
 */
export function dropoutSnippet(threshold: number, rate: number): string {
  if (rate <= 0) return `fn initDropout(bh: i32) {}
fn keepScale(q: i32, k: i32) -> f32 { return 1.0; }`;
  return `var<private> seedBH: u32;
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}
fn initDropout(bh: i32) { seedBH = mix32(mix32(bitcast<u32>(uniforms.seed)) ^ u32(bh)); }
fn keepScale(q: i32, k: i32) -> f32 {
  let h = mix32(mix32(u32(q) * u32(uniforms.T) + u32(k)) ^ seedBH);
  return select(0.0, ${f32(1 / (1 - rate))}, h >= ${threshold}u);
}`;
}

/**
 * Statements zeroing a function-scope array of 4 vec4 at the top of each loop step. Vars
 * are declared once, outside the loops: a var declared inside a loop body is not reliably
 * re-initialized on every iteration by all WGSL compilers (seen on Dawn's Vulkan path).
 */
export function zeroFour(name: string): string {
  return [0, 1, 2, 3].map((i) => `${name}[${i}] = vec4<f32>(0.0);`).join(' ');
}

/** Masked scores: exp() of them is exactly 0, and they stay finite (no inf - inf). */
export const NEG = '-1.0e30';
