import { ShiftmixError, tf } from '@shiftmix/core';
import { BIAS_GELU, BIAS_GELU_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { checkRows, sumColumns } from './layer-norm-grad.js';
import { WEBGPU_BACKEND, alignedRows, foldedDispatch, maxBindingBytes, rowChunks, runProgram, Program } from './runtime.js';
import { valueType, vectorWidth } from './wgsl.js';

// gelu(x + b), tanh form: inputs {x [..., H], b [H]}; core's biasGelu dispatches to it.

/** Launch shape of the backward: `lanes` threads of a column each walk `rowsPerThread` rows. */
export const biasGeluTuning = { rowsPerThread: 8, lanes: 8, columnsPerWorkgroup: 32 };

const FLAT_WORKGROUP = 256;

/**
 * gelu(z) = 0.5 z (1 + tanh(u)), u = c (z + 0.044715 z^3), and its derivative. tanh is
 * written with exp(-2|u|), which cannot overflow (a plain exp(2u) form gives inf / inf).
 */
function geluSnippet(V: string): string {
  return `const GELU_C: f32 = ${Math.sqrt(2 / Math.PI)};
fn tanhSafe(u: ${V}) -> ${V} {
  let e = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - e) / (1.0 + e);
}
fn geluOf(z: ${V}) -> ${V} {
  return 0.5 * z * (1.0 + tanhSafe(GELU_C * (z + 0.044715 * z * z * z)));
}
fn geluGrad(z: ${V}) -> ${V} {
  let t = tanhSafe(GELU_C * (z + 0.044715 * z * z * z));
  return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * 0.044715 * z * z);
}`;
}

/** y = gelu(x + b[column]), one thread per element (vec4 of channels when H % 4 == 0). */
export class BiasGeluProgram extends Program {
  outputNames = ['y'];
  variableNames = ['x', 'b'];
  uniformNames = ['count'];
  workgroupSize: [number, number, number] = [FLAT_WORKGROUP, 1, 1];

  constructor(
    private readonly dim: number,
    count: number,
  ) {
    super();
    const width = vectorWidth(dim);
    this.components = [width, width, width];
    this.dispatch = foldedDispatch(Math.ceil(count / FLAT_WORKGROUP));
    this.shaderKey = `biasGelu_${dim}`;
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    return `const R: i32 = ${this.dim / width};
${geluSnippet(valueType(width))}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let i = (wid.y * nwg.x + wid.x) * ${FLAT_WORKGROUP} + lid.x;
  if (i >= uniforms.count) { return; }
  y[i] = geluOf(x[i] + b[i % R]);
}`;
  }
}

/**
 * dx = dy * gelu'(x + b) in one pass; the threads of a workgroup fold their column sums
 * of dx into partial [chunks, 1, H], which ColumnSumProgram reduces to db.
 */
export class BiasGeluGradProgram extends Program {
  outputNames = ['dx', 'partial'];
  variableNames = ['dy', 'x', 'b'];
  uniformNames = ['rows'];
  readonly chunks: number;
  private readonly tuning = { ...biasGeluTuning };

  constructor(
    private readonly dim: number,
    rows: number,
  ) {
    super();
    const width = vectorWidth(dim);
    const { rowsPerThread, lanes, columnsPerWorkgroup } = this.tuning;
    this.components = Array(5).fill(width);
    this.workgroupSize = [columnsPerWorkgroup, lanes, 1];
    this.chunks = Math.ceil(rows / (rowsPerThread * lanes));
    if (this.chunks > 65535) {
      throw new ShiftmixError(`the fused bias-GELU backward got ${rows} rows, more than it tiles`, 'Use a smaller batch or context', 'E_SHAPE');
    }
    this.dispatch = [Math.ceil(dim / width / columnsPerWorkgroup), this.chunks, 1];
    this.shaderKey = `biasGeluGrad_${dim}_${rowsPerThread}_${lanes}_${columnsPerWorkgroup}`;
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    const V = valueType(width);
    const { rowsPerThread, lanes, columnsPerWorkgroup: cols } = this.tuning;
    return `const R: i32 = ${this.dim / width};
${geluSnippet(V)}
var<workgroup> sums: array<${V}, ${cols * lanes}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let q = wid.x * ${cols} + lid.x;
  var acc = ${V}(0.0);
  if (q < R) {
    let bq = b[q];
    let first = (wid.y * ${lanes} + lid.y) * ${rowsPerThread};
    let last = min(first + ${rowsPerThread}, uniforms.rows);
    for (var row = first; row < last; row++) {
      let i = row * R + q;
      let d = dy[i] * geluGrad(x[i] + bq);
      dx[i] = d;
      acc += d;
    }
  }
  sums[lid.y * ${cols} + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0 && q < R) {
    for (var k = 1; k < ${lanes}; k++) { acc += sums[k * ${cols} + lid.x]; }
    partial[wid.y * R + q] = acc;
  }
}`;
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function biasGeluForward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x, b } = inputs as Record<string, tf.TensorInfo>;
  const { dim, rows } = checkRows(BIAS_GELU.name, x, [b]);
  const be = backend as WebGPUBackend;
  if (rows === 0) return be.makeTensorInfo(x.shape, 'float32', new Float32Array(0));
  const y = be.makeTensorInfo(x.shape, 'float32');
  // Rows at a time where x passes the device's largest binding; 64-row starts keep offsets aligned.
  for (const [r0, r1] of rowChunks(rows, dim * 4, maxBindingBytes(be), 64)) {
    const count = ((r1 - r0) * dim) / vectorWidth(dim);
    const range = (info: tf.TensorInfo) => ({ info, offset: r0 * dim * 4, size: (r1 - r0) * dim * 4 });
    runProgram(be, new BiasGeluProgram(dim, count), [range(x), b], [range(y)], [count]);
  }
  return y;
}

export function biasGeluBackward({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const { dy, x, b } = inputs as Record<string, tf.TensorInfo>;
  const { dim, rows } = checkRows(BIAS_GELU_GRAD.name, x, [b], [dy]);
  const be = backend as WebGPUBackend;
  if (rows === 0) return [be.makeTensorInfo(x.shape, 'float32', new Float32Array(0)), be.makeTensorInfo([dim], 'float32', new Float32Array(dim))];
  const rowsPerWorkgroup = biasGeluTuning.rowsPerThread * biasGeluTuning.lanes;
  const dx = be.makeTensorInfo(x.shape, 'float32');
  const partial = be.makeTensorInfo([Math.ceil(rows / rowsPerWorkgroup), 1, dim], 'float32');
  // Rows at a time where the tensors pass the device's largest binding. Chunks start on a
  // workgroup's first row, at a count of workgroups whose partial sums start on an aligned offset.
  for (const [r0, r1] of rowChunks(rows, dim * 4, maxBindingBytes(be), rowsPerWorkgroup * alignedRows(be, dim * 4))) {
    const program = new BiasGeluGradProgram(dim, r1 - r0);
    const range = (info: tf.TensorInfo) => ({ info, offset: r0 * dim * 4, size: (r1 - r0) * dim * 4 });
    const partials = { info: partial, offset: (r0 / rowsPerWorkgroup) * dim * 4, size: program.chunks * dim * 4 };
    runProgram(be, program, [range(dy), range(x), b], [range(dx), partials], [r1 - r0]);
  }
  return [dx, ...sumColumns(be, partial, dim, 1)];
}

BIAS_GELU.implement(WEBGPU_BACKEND, biasGeluForward as unknown as tf.KernelFunc);
BIAS_GELU_GRAD.implement(WEBGPU_BACKEND, biasGeluBackward as unknown as tf.KernelFunc);
