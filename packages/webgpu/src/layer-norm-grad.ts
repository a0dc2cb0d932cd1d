import { ShiftmixError, tf } from '@shiftmix/core';
import { LAYER_NORM_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { WEBGPU_BACKEND, foldedDispatch, runProgram, Program } from './runtime.js';
import { valueType, vectorWidth } from './wgsl.js';

/** Rows one backward workgroup walks; its dgamma/dbeta partial sums cover them. */
export const layerNormTuning = { rowsPerWorkgroup: 16 };

/** Largest D the row kernels take: each thread keeps ceil(D / 4 / 256) vec4 per row in registers. */
export const LAYER_NORM_MAX_DIM = 16384;

/** Threads per row: a power of two near half the row's elements (at least 32, at most 256). */
export function rowThreads(elements: number): number {
  let threads = 32;
  while (threads < 256 && threads * 2 < elements) threads *= 2;
  return threads;
}

/** Row layout shared by the layer norm programs: R elements of width W, WG threads, K elements each. */
export function rowLayout(dim: number): { width: 1 | 4; R: number; WG: number; K: number } {
  const width = vectorWidth(dim);
  const R = dim / width;
  const WG = rowThreads(R);
  return { width, R, WG, K: Math.ceil(R / WG) };
}

/** WGSL: constants R, K, WG, D, the arrays of workgroupSum and `hsum` (the sum of an element's lanes). */
export function rowReductionSnippet(dim: number, sums: number): string {
  const { width, R, WG, K } = rowLayout(dim);
  const arrays = Array.from({ length: sums }, (_, i) => `var<workgroup> sums${i}: array<vec2<f32>, ${WG}>;`);
  return `const R: i32 = ${R};
const K: i32 = ${K};
const WG: i32 = ${WG};
const D: f32 = ${dim}.0;
${arrays.join('\n')}
fn hsum(v: ${valueType(width)}) -> f32 { return ${width === 4 ? 'dot(v, vec4<f32>(1.0))' : 'v'}; }`;
}

/** WGSL: `body` for each of the K elements of its row a thread holds, `q` the element's index in the row. */
export function eachOfRow(body: string): string {
  return `for (var k = 0; k < K; k++) {
    let q = lid.x + k * WG;
    if (q < R) { ${body} }
  }`;
}

/**
 * WGSL statements: `let <name>` = the workgroup-wide sum of the vec2 `value`, a tree in
 * workgroup array `sums<slot>` that every thread then reads. Each sum of a row gets its
 * own array: reusing one, with a barrier between the last read and the next write, gave
 * threads past the first SIMD group the next sum's values on Mesa's llvmpipe.
 */
export function workgroupSum(name: string, value: string, slot: number): string {
  const a = `sums${slot}`;
  return `${a}[lid.x] = ${value};
  workgroupBarrier();
  for (var stride = WG / 2; stride > 0; stride /= 2) {
    if (lid.x < stride) { ${a}[lid.x] += ${a}[lid.x + stride]; }
    workgroupBarrier();
  }
  let ${name} = ${a}[0];`;
}

/**
 * dx for `rowsPerWorkgroup` rows per workgroup, one workgroup-wide pass per row: the row's
 * mean and rstd are recomputed from x (cheaper than storing them), then
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma (+ dres).
 * Each thread also sums dy * xhat and dy over the rows for its channels: partial [chunks, 2, D].
 */
export class LayerNormGradProgram extends Program {
  outputNames = ['dx', 'partial'];
  uniformNames = ['rows', 'chunks', 'eps'];
  readonly chunks: number;
  private readonly rowsPerWorkgroup = layerNormTuning.rowsPerWorkgroup;

  constructor(
    private readonly dim: number,
    rows: number,
    private readonly residual: boolean,
  ) {
    super();
    const { width, WG } = rowLayout(dim);
    this.variableNames = residual ? ['dy', 'x', 'gamma', 'dres'] : ['dy', 'x', 'gamma'];
    this.components = Array(2 + this.variableNames.length).fill(width);
    this.workgroupSize = [WG, 1, 1];
    this.chunks = Math.ceil(rows / this.rowsPerWorkgroup);
    this.dispatch = foldedDispatch(this.chunks);
    this.shaderKey = `layerNormGrad_${dim}_${residual ? 'res' : 'plain'}_${this.rowsPerWorkgroup}`;
  }

  getUserCode(): string {
    const V = valueType(vectorWidth(this.dim));
    return `${rowReductionSnippet(this.dim, 3)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let chunk = wid.y * nwg.x + wid.x;
  if (chunk >= uniforms.chunks) { return; }
  let eps = bitcast<f32>(uniforms.eps);
  var gam: array<${V}, K>;
  var dgamma: array<${V}, K>;
  var dbeta: array<${V}, K>;
  var xs: array<${V}, K>;
  var gs: array<${V}, K>;
  ${eachOfRow('gam[k] = gamma[q];')}
  let first = chunk * ${this.rowsPerWorkgroup};
  let last = min(first + ${this.rowsPerWorkgroup}, uniforms.rows);
  // Per-row accumulators live outside the loop and are reset by assignment: a var declared
  // in a loop body once kept its value across iterations on Dawn's Vulkan path.
  var s = 0.0;
  var ss = 0.0;
  var ab = vec2<f32>(0.0);
  for (var row = first; row < last; row++) {
    let base = row * R;
    s = 0.0;
    ${eachOfRow('xs[k] = x[base + q]; s += hsum(xs[k]);')}
    ${workgroupSum('sx', 'vec2<f32>(s, 0.0)', 0)}
    let mean = sx.x / D;
    ss = 0.0;
    ${eachOfRow('xs[k] = xs[k] - mean; ss += hsum(xs[k] * xs[k]);')}
    ${workgroupSum('sxx', 'vec2<f32>(ss, 0.0)', 1)}
    let rstd = 1.0 / sqrt(sxx.x / D + eps);
    ab = vec2<f32>(0.0);
    ${eachOfRow(`let g = dy[base + q];
        xs[k] = xs[k] * rstd;
        gs[k] = g * gam[k];
        ab += vec2<f32>(hsum(gs[k]), hsum(gs[k] * xs[k]));
        dgamma[k] += g * xs[k];
        dbeta[k] += g;`)}
    ${workgroupSum('sab', 'ab', 2)}
    let means = sab / D;
    ${eachOfRow(`dx[base + q] = rstd * (gs[k] - means.x - xs[k] * means.y)${this.residual ? ' + dres[base + q]' : ''};`)}
  }
  ${eachOfRow('partial[(chunk * 2) * R + q] = dgamma[k]; partial[(chunk * 2 + 1) * R + q] = dbeta[k];')}
}`;
  }
}

const SUM_COLUMNS = 16;
const SUM_LANES = 16;

/** The column sums of partial [chunks, sums, D]: `sums` outputs of [D] (sums: 1 or 2). */
export class ColumnSumProgram extends Program {
  variableNames = ['partial'];
  uniformNames = ['chunks'];
  workgroupSize: [number, number, number] = [SUM_COLUMNS, SUM_LANES, 1];

  constructor(
    private readonly dim: number,
    private readonly sums: 1 | 2,
  ) {
    super();
    const width = vectorWidth(dim);
    this.outputNames = sums === 2 ? ['out0', 'out1'] : ['out0'];
    this.components = Array(sums + 1).fill(width);
    this.dispatch = [Math.ceil(dim / width / SUM_COLUMNS), 1, 1];
    this.shaderKey = `columnSum_${dim}_${sums}`;
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    const V = valueType(width);
    const S = this.sums;
    const lanes = Array.from({ length: S }, (_, j) => j);
    return `const R: i32 = ${this.dim / width};
${lanes.map((j) => `var<workgroup> lane${j}: array<${V}, ${SUM_COLUMNS * SUM_LANES}>;`).join('\n')}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let q = wid.x * ${SUM_COLUMNS} + lid.x;
  ${lanes.map((j) => `var acc${j} = ${V}(0.0);`).join('\n  ')}
  if (q < R) {
    for (var k = lid.y; k < uniforms.chunks; k += ${SUM_LANES}) {
      ${lanes.map((j) => `acc${j} += partial[(k * ${S} + ${j}) * R + q];`).join('\n      ')}
    }
  }
  let slot = lid.y * ${SUM_COLUMNS} + lid.x;
  ${lanes.map((j) => `lane${j}[slot] = acc${j};`).join('\n  ')}
  workgroupBarrier();
  if (lid.y == 0 && q < R) {
    for (var k = 1; k < ${SUM_LANES}; k++) {
      ${lanes.map((j) => `acc${j} += lane${j}[k * ${SUM_COLUMNS} + lid.x];`).join('\n      ')}
    }
    ${lanes.map((j) => `out${j}[q] = acc${j};`).join('\n    ')}
  }
}`;
  }
}

/** Reduces partial [chunks, sums, D] to `sums` tensors of [D] and frees the partials. */
export function sumColumns(be: WebGPUBackend, partial: tf.TensorInfo, dim: number, sums: 1 | 2): tf.TensorInfo[] {
  const outputs = Array.from({ length: sums }, () => be.makeTensorInfo([dim], 'float32'));
  runProgram(be, new ColumnSumProgram(dim, sums), [partial], outputs, [partial.shape[0]]);
  be.disposeData(partial.dataId);
  return outputs;
}

/** The reinterpretation of an f32 as the i32 a uniform carries. */
export function floatBits(value: number): number {
  return new Int32Array(new Float32Array([value]).buffer)[0];
}

/** Checks a row op's x [..., D] and per-channel vectors [D]; returns D and the row count. */
export function checkRows(kernel: string, x: tf.TensorInfo, vectors: tf.TensorInfo[], sameAsX: tf.TensorInfo[] = []): { dim: number; rows: number } {
  const dim = x.shape[x.shape.length - 1] ?? 0;
  const bad =
    x.shape.length < 1 ||
    dim > LAYER_NORM_MAX_DIM ||
    vectors.some((v) => v.shape.length !== 1 || v.shape[0] !== dim) ||
    sameAsX.some((t) => !tf.util.arraysEqual(t.shape, x.shape)) ||
    [x, ...vectors, ...sameAsX].some((t) => t.dtype !== 'float32');
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 x [..., D] with D <= ${LAYER_NORM_MAX_DIM}, vectors [D] and same-shaped companions, got x ${JSON.stringify(x.shape)}, vectors ${JSON.stringify(vectors.map((v) => v.shape))}, companions ${JSON.stringify(sameAsX.map((t) => t.shape))}`,
      'Pass per-channel gamma/beta (or bias) of length D, the last axis of x',
      'E_SHAPE',
    );
  }
  return { dim, rows: dim === 0 ? 0 : tf.util.sizeFromShape(x.shape) / dim };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function layerNormBackward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma, dres } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { dim, rows } = checkRows(LAYER_NORM_GRAD.name, x!, [gamma!], dres ? [dy!, dres] : [dy!]);
  const be = backend as WebGPUBackend;
  if (rows === 0) {
    return [be.makeTensorInfo(x!.shape, 'float32', new Float32Array(0)), ...[0, 1].map(() => be.makeTensorInfo([dim], 'float32', new Float32Array(dim)))];
  }
  const program = new LayerNormGradProgram(dim, rows, dres !== undefined);
  const dx = be.makeTensorInfo(x!.shape, 'float32');
  const partial = be.makeTensorInfo([program.chunks, 2, dim], 'float32');
  const eps = Number(attrs?.eps ?? 1e-5);
  runProgram(be, program, dres ? [dy!, x!, gamma!, dres] : [dy!, x!, gamma!], [dx, partial], [rows, program.chunks, floatBits(eps)]);
  return [dx, ...sumColumns(be, partial, dim, 2)];
}

LAYER_NORM_GRAD.implement(WEBGPU_BACKEND, layerNormBackward as unknown as tf.KernelFunc);
