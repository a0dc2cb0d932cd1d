import { tf } from '@shiftmix/core';
import { ADD_LAYER_NORM, LAYER_NORM } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { checkRows, eachOfRow, floatBits, rowLayout, rowReductionSnippet, workgroupSum } from './layer-norm-grad.js';
import { WEBGPU_BACKEND, foldedDispatch, runProgram, Program } from './runtime.js';
import { valueType } from './wgsl.js';

// Layer norm over the last axis: inputs {x [..., D], gamma [D], beta [D]}, attrs {eps}; core's layerNorm dispatches to it.
// Residual add and layer norm: inputs {x, h, gamma, beta}, attrs {eps}, outputs [x + h, LN(x + h)]; core's addLayerNorm.

/**
 * One workgroup per row: the row (x, or x + h written to `sum` on the way) is read once
 * into registers, then two workgroup sums give the mean and the biased variance, as in
 * the composite (two passes, no E[x^2] - mean^2 cancellation).
 */
export class LayerNormProgram extends Program {
  uniformNames = ['rows', 'eps'];

  constructor(
    private readonly dim: number,
    rows: number,
    private readonly residual: boolean,
  ) {
    super();
    const { width, WG } = rowLayout(dim);
    this.outputNames = residual ? ['sum', 'normed'] : ['normed'];
    this.variableNames = residual ? ['x', 'h', 'gamma', 'beta'] : ['x', 'gamma', 'beta'];
    this.components = Array(this.outputNames.length + this.variableNames.length).fill(width);
    this.workgroupSize = [WG, 1, 1];
    this.dispatch = foldedDispatch(rows);
    this.shaderKey = `layerNorm_${dim}_${residual ? 'add' : 'plain'}`;
  }

  getUserCode(): string {
    const { width } = rowLayout(this.dim);
    const V = valueType(width);
    const load = this.residual ? 'let v = x[base + q] + h[base + q]; sum[base + q] = v; vals[k] = v;' : 'vals[k] = x[base + q];';
    return `${rowReductionSnippet(this.dim, 2)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= uniforms.rows) { return; }
  let base = row * R;
  var vals: array<${V}, K>;
  var s = 0.0;
  ${eachOfRow(`${load} s += hsum(vals[k]);`)}
  ${workgroupSum('sx', 'vec2<f32>(s, 0.0)', 0)}
  let mean = sx.x / D;
  var ss = 0.0;
  ${eachOfRow('vals[k] = vals[k] - mean; ss += hsum(vals[k] * vals[k]);')}
  ${workgroupSum('sxx', 'vec2<f32>(ss, 0.0)', 1)}
  let rstd = 1.0 / sqrt(sxx.x / D + bitcast<f32>(uniforms.eps));
  ${eachOfRow('normed[base + q] = vals[k] * rstd * gamma[q] + beta[q];')}
}`;
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function run(be: WebGPUBackend, inputs: tf.TensorInfo[], outputs: tf.TensorInfo[], dim: number, rows: number, attrs?: tf.NamedAttrMap): void {
  const eps = Number(attrs?.eps ?? 1e-5);
  runProgram(be, new LayerNormProgram(dim, rows, outputs.length === 2), inputs, outputs, [rows, floatBits(eps)]);
}

export function layerNormForward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { dim, rows } = checkRows(LAYER_NORM.name, x, [gamma, beta]);
  const be = backend as WebGPUBackend;
  if (rows === 0) return be.makeTensorInfo(x.shape, 'float32', new Float32Array(0));
  const normed = be.makeTensorInfo(x.shape, 'float32');
  run(be, [x, gamma, beta], [normed], dim, rows, attrs);
  return normed;
}

export function addLayerNormForward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, h, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { dim, rows } = checkRows(ADD_LAYER_NORM.name, x, [gamma, beta], [h]);
  const be = backend as WebGPUBackend;
  if (rows === 0) return [0, 1].map(() => be.makeTensorInfo(x.shape, 'float32', new Float32Array(0)));
  const [sum, normed] = [0, 1].map(() => be.makeTensorInfo(x.shape, 'float32'));
  run(be, [x, h, gamma, beta], [sum, normed], dim, rows, attrs);
  return [sum, normed];
}

LAYER_NORM.implement(WEBGPU_BACKEND, layerNormForward as unknown as tf.KernelFunc);
ADD_LAYER_NORM.implement(WEBGPU_BACKEND, addLayerNormForward as unknown as tf.KernelFunc);
