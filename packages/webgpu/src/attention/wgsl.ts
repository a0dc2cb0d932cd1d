import { MIX32_WGSL } from './dropout.js';

/**
 * WGSL pieces shared by the flash-attention kernels. The kernels address a row of q, k,
 * v, o and their gradients as row = bh * T + t and move it as vec4 groups of the head
 * dimension: bound as vec4 arrays when hd % 4 == 0, else read element by element with
 * the tail group zero-filled. In workgroup memory a row takes HD4 + 1 vec4 slots, the
 * extra slot shifting consecutive rows across memory banks.
 *
 * Rows live in one of two layouts. Contiguous: each buffer is [B, H, T, hd]. Packed
 * (token-major, `packedHeads` = H > 0): q, k and v are channel ranges [0, D), [D, 2D),
 * [2D, 3D) of one binding QKV [B, T, 3D], their gradients the same ranges of dQKV, and o
 * and dO are [B, T, D]; head h = bh % H starts at channel h * hd of its range.
 */
export interface HeadLayout {
  hd: number;
  /** vec4 groups per row, ceil(hd / 4). */
  hd4: number;
  /** Row stride in workgroup memory, in vec4. */
  s4: number;
  /** hd % 4 == 0: rows bound as vec4 arrays. */
  vec: boolean;
  /** 0: contiguous [B, H, T, hd] buffers; H: token-major buffers of H heads (see above). */
  packedHeads: number;
}

export function headLayout(hd: number, packedHeads = 0): HeadLayout {
  const hd4 = Math.ceil(hd / 4);
  return { hd, hd4, s4: hd4 + 1, vec: hd % 4 === 0, packedHeads };
}

/** A WGSL f32 literal. */
export function f32(value: number): string {
  const text = String(Math.fround(value));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

const PACKED: Record<string, [string, number]> = { Q: ['QKV', 0], K: ['QKV', 1], V: ['QKV', 2], dQ: ['dQKV', 0], dK: ['dQKV', 1], dV: ['dQKV', 2] };

/** The binding that holds the rows of logical buffer `buf`. */
export function bindingOf(buf: string, layout: HeadLayout): string {
  return layout.packedHeads > 0 ? (PACKED[buf]?.[0] ?? buf) : buf;
}

/** Bindings of the logical buffers `bufs`, each once (packed q, k and v share QKV). */
export function bindingsOf(bufs: string[], layout: HeadLayout): string[] {
  return [...new Set(bufs.map((b) => bindingOf(b, layout)))];
}

/** Components of each binding: per-row scalars (lse, D) are f32, rows vec4 when hd % 4 == 0. */
export function componentsOf(bindings: string[], layout: HeadLayout): number[] {
  return bindings.map((b) => (b === 'lse' || b === 'D' || !layout.vec ? 1 : 4));
}

/**
 * `fn at_<buf>(row) -> i32`: where row bh * T + t of `buf` starts in its binding, in the
 * binding's units (vec4 or f32). Packed rows need uniforms.T.
 */
function rowAddress(buf: string, layout: HeadLayout): string {
  const unit = layout.vec ? 4 : 1;
  const per = layout.hd / unit;
  const heads = layout.packedHeads;
  if (heads === 0) return `fn at_${buf}(row: i32) -> i32 { return row * ${per}; }`;
  const dim = heads * layout.hd;
  const range = PACKED[buf];
  const stride = (range ? 3 * dim : dim) / unit;
  const offset = (range ? range[1] * dim : 0) / unit;
  return `fn at_${buf}(row: i32) -> i32 {
  let bh = row / uniforms.T;
  let t = row - bh * uniforms.T;
  return ((bh / ${heads}) * uniforms.T + t) * ${stride} + ${offset} + (bh % ${heads}) * ${per};
}`;
}

/** `fn read_<buf>(row, d4) -> vec4<f32>`: one vec4 group of a row (with its address helper). */
export function rowReader(buf: string, layout: HeadLayout): string {
  const src = bindingOf(buf, layout);
  const at = rowAddress(buf, layout);
  if (layout.vec) return `${at}\nfn read_${buf}(row: i32, d4: i32) -> vec4<f32> { return ${src}[at_${buf}(row) + d4]; }`;
  const element = (e: number) => `select(0.0, ${src}[min(base + ${e}, last)], d4 * 4 + ${e} < ${layout.hd})`;
  return `${at}
fn read_${buf}(row: i32, d4: i32) -> vec4<f32> {
  let rowStart = at_${buf}(row);
  let base = rowStart + d4 * 4;
  let last = rowStart + ${layout.hd - 1};
  return vec4<f32>(${[0, 1, 2, 3].map(element).join(', ')});
}`;
}

/** The address helper of output `buf`, which rowWrite() statements call. */
export function rowWriter(buf: string, layout: HeadLayout): string {
  return rowAddress(buf, layout);
}

/** Statement writing vec4 `value` to group `d4` (< HD4) of `row` of output `buf` (needs rowWriter(buf)). */
export function rowWrite(buf: string, layout: HeadLayout, row: string, d4: string, value: string): string {
  const dst = bindingOf(buf, layout);
  if (layout.vec) return `${dst}[at_${buf}(${row}) + ${d4}] = ${value};`;
  return `{ let w = ${value}; let wbase = at_${buf}(${row}) + (${d4}) * 4; for (var e = 0; e < 4; e++) { if ((${d4}) * 4 + e < ${layout.hd}) { ${dst}[wbase + e] = w[e]; } } }`;
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
 * Opens the loop over the blocks of keys that queries q0 .. q0 + bq - 1 see (causal, and
 * within the window when one is set), each block loaded into Ks and Vs; `full` says that
 * the block needs no per-entry visibility test. The caller's statements and `}` follow.
 */
export function keyBlocksOf(layout: HeadLayout, bq: number, bk: number): string {
  return `let kEnd = min(uniforms.T, q0 + ${bq});
  var kBegin = 0;
  if (uniforms.window > 0) { kBegin = max(0, q0 - uniforms.window + 1); }
  for (var k0 = (kBegin / ${bk}) * ${bk}; k0 < kEnd; k0 += ${bk}) {
    workgroupBarrier();
    ${tileLoad('Ks', 'K', layout, 'k0', bk)}
    ${tileLoad('Vs', 'V', layout, 'k0', bk)}
    workgroupBarrier();
    let full = fullTile(q0, ${bq}, k0, ${bk});`;
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
  if (rate <= 0)
    return `fn initDropout(bh: i32) {}
fn keepScale(q: i32, k: i32) -> f32 { return 1.0; }`;
  return `var<private> seedBH: u32;
${MIX32_WGSL}
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

/**
 * The start of every attention program's main: thread tid as (tx, ty) of a grid `tx` wide,
 * this workgroup's block of rows (`start`, `block` of them, along wid.x) of head bh (wid.y),
 * the dropout state of that head, and the block's rows of `tile` loaded into workgroup memory.
 */
export function blockMain(tx: number, start: string, block: number, tile: { into: string; from: string; layout: HeadLayout }): string {
  return `fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let tid = lid.x;
  let tx = tid % ${tx};
  let ty = tid / ${tx};
  let ${start} = wid.x * ${block};
  let bh = wid.y;
  initDropout(bh);
  ${tileLoad(tile.into, tile.from, tile.layout, start, block)}`;
}
