import { ShiftmixError } from '@shiftmix/core';
import { channelGroups } from '@shiftmix/core/tooling';
import { foldedDispatch, Program } from './runtime.js';

/**
 * WGSL snippets shared by the fused shift kernels. Channels are split into
 * `shifts.length` contiguous groups by core's `channelGroups`; the group sizes and
 * shifts are baked into the shader as constants (one pipeline per layer), while the
 * batch and time sizes arrive as uniforms so a layer's pipeline serves every length.
 */

/** Checks the `shifts` attribute against D and returns it as plain integers. */
export function checkShiftAttr(shifts: unknown, dim: number, kernel: string): number[] {
  const list = Array.isArray(shifts) ? (shifts as unknown[]) : [];
  const ok = list.length > 0 && list.length <= dim && list.every((s) => Number.isInteger(s) && (s as number) >= 1 && (s as number) < 2 ** 30);
  if (!ok) {
    throw new ShiftmixError(
      `${kernel} needs attrs.shifts: 1 to D=${dim} whole numbers >= 1, got ${JSON.stringify(shifts)}`,
      'Pass the layer shifts from the schedule, e.g. runKernel(name, inputs, { shifts: [1, 2] })',
      'E_SHIFTS',
    );
  }
  return list as number[];
}

/**
 * Channel -> shift, as WGSL: `fn shiftOf(c: i32) -> i32`, with c in [0, D). The group
 * index uses constant divisors (cheap multiply-shifts); the lookup is a select chain, so
 * no per-thread array is materialized, except for unusually many groups.
 */
export function shiftOfSnippet(dim: number, shifts: number[]): string {
  if (shifts.length === 1) return `fn shiftOf(c: i32) -> i32 { return ${shifts[0]}; }`;
  const groups = channelGroups(dim, shifts.length);
  const base = groups[groups.length - 1].size;
  const big = (dim % shifts.length) * (base + 1);
  // The first D % G groups hold base + 1 channels, the others base (channelGroups).
  const group = `let g = select(${dim % shifts.length} + (c - ${big}) / ${base}, c / ${base + 1}, c < ${big});`;
  if (shifts.length > 16) {
    return `fn shiftOf(c: i32) -> i32 {
  ${group}
  let table = array<i32, ${shifts.length}>(${shifts.join(', ')});
  return table[g];
}`;
  }
  const chain = shifts.slice(1).map((s, i) => `  s = select(s, ${s}, g == ${i + 1});`);
  return `fn shiftOf(c: i32) -> i32 {
  ${group}
  var s = ${shifts[0]};
${chain.join('\n')}
  return s;
}`;
}

/**
 * `fn shiftsAt(q: i32) -> SV`: the shifts of the W channels held by element q of a row
 * (W = 4: a vec4 of four channels, which may straddle two groups).
 */
export function shiftsAtSnippet(width: number): string {
  if (width === 1) return 'fn shiftsAt(q: i32) -> i32 { return shiftOf(q); }';
  return `fn shiftsAt(q: i32) -> vec4<i32> {
  let c = q * 4;
  return vec4<i32>(shiftOf(c), shiftOf(c + 1), shiftOf(c + 2), shiftOf(c + 3));
}`;
}

/**
 * `fn <name>(row, t, q, s) -> V`: buffer `buf` at the same channels, `dir` rows away:
 * dir -1 reads S(buf) (row - s, zero while t < s), dir +1 reads the transposed shift
 * (row + s, zero once t + s >= T). `row` is the flat b * T + t, `R` the row length in
 * elements (a WGSL constant), T the uniform `uniforms.T`.
 */
export function shiftedReadSnippet(name: string, buf: string, width: number, dir: -1 | 1): string {
  const valid = (s: string) => (dir < 0 ? `t >= ${s}` : `t + ${s} < uniforms.T`);
  const at = (s: string) => `(row ${dir < 0 ? '-' : '+'} ${s}) * R + q`;
  if (width === 1) {
    return `fn ${name}(row: i32, t: i32, q: i32, s: i32) -> f32 {
  if (${valid('s')}) { return ${buf}[${at('s')}]; }
  return 0.0;
}`;
  }
  // Each channel of the vec4 may have its own shift; the common case loads one vec4.
  return `fn ${name}(row: i32, t: i32, q: i32, s: vec4<i32>) -> vec4<f32> {
  if (all(s == vec4<i32>(s.x))) {
    if (${valid('s.x')}) { return ${buf}[${at('s.x')}]; }
    return vec4<f32>(0.0);
  }
  var r = vec4<f32>(0.0);
  for (var k = 0; k < 4; k++) {
    if (${valid('s[k]')}) { r[k] = ${buf}[${at('s[k]')}][k]; }
  }
  return r;
}`;
}

/** vec4 loads need rows whose length is a multiple of 4 channels. */
export function vectorWidth(dim: number): 1 | 4 {
  return dim % 4 === 0 ? 4 : 1;
}

export function valueType(width: number): string {
  return width === 4 ? 'vec4<f32>' : 'f32';
}

/**
 * WGSL statements that sum `name[0 .. size)` (a workgroup array, size a power of two)
 * into `name[0]` by halving; every invocation of the workgroup must reach them.
 */
export function workgroupSumSnippet(name: string, size: number, lane = 'lid.x'): string {
  return `workgroupBarrier();
  var width = ${size / 2};
  loop {
    if (width == 0) { break; }
    if (${lane} < width) { ${name}[${lane}] = ${name}[${lane}] + ${name}[${lane} + width]; }
    workgroupBarrier();
    width = width / 2;
  }`;
}

/** Threads per workgroup of the one-thread-per-element shift kernels. */
export const ELEMENTWISE_WORKGROUP = 256;

/**
 * A shift kernel with one thread per element of a [rows, D] tensor (a vec4 of channels
 * when D % 4 == 0): every binding has that width, and the grid folds past the x limit.
 * One pipeline per (D, shifts), named `<name>_<D>_<shifts>`.
 */
export abstract class ElementwiseShiftProgram extends Program {
  workgroupSize: [number, number, number] = [ELEMENTWISE_WORKGROUP, 1, 1];

  constructor(
    protected readonly dim: number,
    protected readonly shifts: number[],
    count: number,
    name: string,
    bindings: number,
  ) {
    super();
    this.components = Array(bindings).fill(vectorWidth(dim));
    this.dispatch = foldedDispatch(Math.ceil(count / ELEMENTWISE_WORKGROUP));
    this.shaderKey = `${name}_${dim}_${shifts.join(',')}`;
  }

  abstract getUserCode(): string;
}
