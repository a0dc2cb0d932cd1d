import { ShiftmixError, tf } from '@shiftmix/core';
import { HSM_AB, HSM_AB_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { WEBGPU_BACKEND, declareTuning, runProgram, Program } from './runtime.js';
import {
  ELEMENTWISE_WORKGROUP,
  ElementwiseShiftProgram,
  checkShiftAttr,
  shiftOfSnippet,
  shiftedReadSnippet,
  shiftsAtSnippet,
  valueType,
  vectorWidth,
} from './wgsl.js';

// Fused (a,b) mix: inputs {u [B,T,D], a [D], b [D]}, attrs {shifts}, output Y [B,T,D]; core's hsmAbMix dispatches to it.

/**
 * Launch shape of the backward pass, which the GPU benchmark sweeps (kernelTuning). A thread
 * walks `rowsPerThread` rows of one vec4 column; `lanes` threads stacked in y share a
 * workgroup and fold their da/db partial sums in workgroup memory before writing them.
 */
export const hsmAbTuning = declareTuning(HSM_AB_GRAD.name, { rowsPerThread: 8, lanes: 8, columnsPerWorkgroup: 32 });

function common(dim: number, shifts: number[], width: number): string {
  return `const R: i32 = ${dim / width};
${shiftOfSnippet(dim, shifts)}
${shiftsAtSnippet(width)}`;
}

/** Y = a * U + b * S(U), one thread per element (vec4 of channels when D % 4 == 0). */
export class HsmAbProgram extends ElementwiseShiftProgram {
  outputNames = ['y'];
  variableNames = ['u', 'a', 'b'];
  uniformNames = ['rows', 'T', 'count'];

  constructor(dim: number, shifts: number[], count: number) {
    super(dim, shifts, count, 'hsmAb', 4);
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    return `${common(this.dim, this.shifts, width)}
${shiftedReadSnippet('shiftedU', 'u', width, -1)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let i = (wid.y * nwg.x + wid.x) * ${ELEMENTWISE_WORKGROUP} + lid.x;
  if (i >= uniforms.count) { return; }
  let row = i / R;
  let q = i - row * R;
  let t = row % uniforms.T;
  y[i] = a[q] * u[i] + b[q] * shiftedU(row, t, q, shiftsAt(q));
}`;
  }
}

/**
 * Backward in one pass over dY and U: dU[t] = a dY[t] + b dY[t+s] (t + s < T), and per
 * workgroup the partial sums of dY U and dY S(U) over its rows, [chunks, 2, D].
 */
export class HsmAbGradProgram extends Program {
  outputNames = ['du', 'partial'];
  variableNames = ['dy', 'u', 'a', 'b'];
  uniformNames = ['rows', 'T'];
  readonly chunks: number;
  private readonly tuning = { ...hsmAbTuning };

  constructor(
    private readonly dim: number,
    private readonly shifts: number[],
    rows: number,
  ) {
    super();
    const width = vectorWidth(dim);
    const { rowsPerThread, lanes, columnsPerWorkgroup } = this.tuning;
    this.components = Array(6).fill(width);
    this.workgroupSize = [columnsPerWorkgroup, lanes, 1];
    this.chunks = Math.ceil(rows / (rowsPerThread * lanes));
    if (this.chunks > 65535) {
      throw new ShiftmixError(`the fused (a,b) backward got B*T=${rows} rows, more than it tiles`, 'Use a smaller batch or context', 'E_SHAPE');
    }
    this.dispatch = [Math.ceil(dim / width / columnsPerWorkgroup), this.chunks, 1];
    this.shaderKey = `hsmAbGrad_${dim}_${shifts.join(',')}_${rowsPerThread}_${lanes}_${columnsPerWorkgroup}`;
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    const V = valueType(width);
    const { rowsPerThread, lanes, columnsPerWorkgroup: cols } = this.tuning;
    return `${common(this.dim, this.shifts, width)}
${shiftedReadSnippet('shiftedU', 'u', width, -1)}
${shiftedReadSnippet('aheadDy', 'dy', width, 1)}
var<workgroup> sumA: array<${V}, ${cols * lanes}>;
var<workgroup> sumB: array<${V}, ${cols * lanes}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let q = wid.x * ${cols} + lid.x;
  var accA = ${V}(0.0);
  var accB = ${V}(0.0);
  if (q < R) {
    let s = shiftsAt(q);
    let av = a[q];
    let bv = b[q];
    var row = (wid.y * ${lanes} + lid.y) * ${rowsPerThread};
    let end = min(row + ${rowsPerThread}, uniforms.rows);
    var t = row % uniforms.T;
    for (; row < end; row++) {
      let i = row * R + q;
      let g = dy[i];
      accA += g * u[i];
      accB += g * shiftedU(row, t, q, s);
      du[i] = av * g + bv * aheadDy(row, t, q, s);
      t += 1;
      if (t == uniforms.T) { t = 0; }
    }
  }
  let slot = lid.y * ${cols} + lid.x;
  sumA[slot] = accA;
  sumB[slot] = accB;
  workgroupBarrier();
  if (lid.y == 0 && q < R) {
    var totalA = accA;
    var totalB = accB;
    for (var k = 1; k < ${lanes}; k++) {
      totalA += sumA[k * ${cols} + lid.x];
      totalB += sumB[k * ${cols} + lid.x];
    }
    partial[(wid.y * 2) * R + q] = totalA;
    partial[(wid.y * 2 + 1) * R + q] = totalB;
  }
}`;
  }
}

const REDUCE_COLUMNS = 16;
const REDUCE_LANES = 16;

/** da, db = the column sums of the partials [chunks, 2, D]. */
export class PartialSumProgram extends Program {
  outputNames = ['da', 'db'];
  variableNames = ['partial'];
  uniformNames = ['chunks'];
  workgroupSize: [number, number, number] = [REDUCE_COLUMNS, REDUCE_LANES, 1];

  constructor(private readonly dim: number) {
    super();
    const width = vectorWidth(dim);
    this.components = [width, width, width];
    this.dispatch = [Math.ceil(dim / width / REDUCE_COLUMNS), 1, 1];
    this.shaderKey = `partialSum_${dim}`;
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    const V = valueType(width);
    return `const R: i32 = ${this.dim / width};
var<workgroup> sumA: array<${V}, ${REDUCE_COLUMNS * REDUCE_LANES}>;
var<workgroup> sumB: array<${V}, ${REDUCE_COLUMNS * REDUCE_LANES}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let q = wid.x * ${REDUCE_COLUMNS} + lid.x;
  var accA = ${V}(0.0);
  var accB = ${V}(0.0);
  if (q < R) {
    for (var k = lid.y; k < uniforms.chunks; k += ${REDUCE_LANES}) {
      accA += partial[(k * 2) * R + q];
      accB += partial[(k * 2 + 1) * R + q];
    }
  }
  let slot = lid.y * ${REDUCE_COLUMNS} + lid.x;
  sumA[slot] = accA;
  sumB[slot] = accB;
  workgroupBarrier();
  if (lid.y == 0 && q < R) {
    for (var k = 1; k < ${REDUCE_LANES}; k++) {
      accA += sumA[k * ${REDUCE_COLUMNS} + lid.x];
      accB += sumB[k * ${REDUCE_COLUMNS} + lid.x];
    }
    da[q] = accA;
    db[q] = accB;
  }
}`;
  }
}

function checkMixInputs(kernel: string, u: tf.TensorInfo, a: tf.TensorInfo, b: tf.TensorInfo, dy?: tf.TensorInfo): number {
  const dim = u.shape[2];
  const bad =
    u.shape.length !== 3 ||
    a.shape.length !== 1 ||
    a.shape[0] !== dim ||
    b.shape.length !== 1 ||
    b.shape[0] !== dim ||
    (dy !== undefined && !tf.util.arraysEqual(dy.shape, u.shape)) ||
    [u, a, b, dy].some((t) => t !== undefined && t.dtype !== 'float32');
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 u [B, T, D] and a, b [D]${dy ? ' and dy shaped like u' : ''}, got u ${JSON.stringify(u.shape)}, a ${JSON.stringify(a.shape)}, b ${JSON.stringify(b.shape)}`,
      'Pass per-channel a and b of length D',
      'E_SHAPE',
    );
  }
  return dim;
}

export function hsmAbForward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { u, a, b } = inputs as Record<string, tf.TensorInfo>;
  const dim = checkMixInputs(HSM_AB.name, u, a, b);
  const shifts = checkShiftAttr(attrs?.shifts, dim, HSM_AB.name);
  const be = backend as WebGPUBackend;
  const [batch, time] = u.shape;
  const count = (batch * time * dim) / vectorWidth(dim);
  if (count === 0) return be.makeTensorInfo(u.shape, 'float32', new Float32Array(0));
  const y = be.makeTensorInfo(u.shape, 'float32');
  runProgram(be, new HsmAbProgram(dim, shifts, count), [u, a, b], [y], [batch * time, time, count]);
  return y;
}

export function hsmAbBackward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { dy, u, a, b } = inputs as Record<string, tf.TensorInfo>;
  const dim = checkMixInputs(HSM_AB_GRAD.name, u, a, b, dy);
  const shifts = checkShiftAttr(attrs?.shifts, dim, HSM_AB_GRAD.name);
  const be = backend as WebGPUBackend;
  const [batch, time] = u.shape;
  const rows = batch * time;
  if (rows === 0 || dim === 0) {
    return [be.makeTensorInfo(u.shape, 'float32', new Float32Array(0)), ...[0, 1].map(() => be.makeTensorInfo([dim], 'float32', new Float32Array(dim)))];
  }
  const program = new HsmAbGradProgram(dim, shifts, rows);
  const du = be.makeTensorInfo(u.shape, 'float32');
  const partial = be.makeTensorInfo([program.chunks, 2, dim], 'float32');
  runProgram(be, program, [dy, u, a, b], [du, partial], [rows, time]);
  const da = be.makeTensorInfo([dim], 'float32');
  const db = be.makeTensorInfo([dim], 'float32');
  runProgram(be, new PartialSumProgram(dim), [partial], [da, db], [program.chunks]);
  be.disposeData(partial.dataId);
  return [du, da, db];
}

HSM_AB.implement(WEBGPU_BACKEND, hsmAbForward as unknown as tf.KernelFunc);
HSM_AB_GRAD.implement(WEBGPU_BACKEND, hsmAbBackward as unknown as tf.KernelFunc);
