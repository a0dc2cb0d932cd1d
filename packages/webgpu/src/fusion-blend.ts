import { ShiftmixError, tf } from '@shiftmix/core';
import { FUSION_BLEND, FUSION_BLEND_GRAD } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { WEBGPU_BACKEND, runProgram } from './runtime.js';
import { ELEMENTWISE_WORKGROUP, ElementwiseShiftProgram, checkShiftAttr, shiftOfSnippet, shiftedReadSnippet, shiftsAtSnippet, vectorWidth } from './wgsl.js';

// Fused learned-fusion blend: inputs {g, v} [B,T,D], attrs {shifts}, output G V + (1 - G) S(V); core's fusionBlend dispatches to it.

function header(dim: number, shifts: number[]): string {
  const width = vectorWidth(dim);
  return `const R: i32 = ${dim / width};
${shiftOfSnippet(dim, shifts)}
${shiftsAtSnippet(width)}
${shiftedReadSnippet('shiftedV', 'v', width, -1)}`;
}

const FLAT_INDEX = `let i = (wid.y * nwg.x + wid.x) * ${ELEMENTWISE_WORKGROUP} + lid.x;
  if (i >= uniforms.count) { return; }
  let row = i / R;
  let q = i - row * R;
  let t = row % uniforms.T;
  let s = shiftsAt(q);`;

/** Y = S(V) + G (V - S(V)), one thread per element. */
export class FusionBlendProgram extends ElementwiseShiftProgram {
  outputNames = ['y'];
  variableNames = ['g', 'v'];
  uniformNames = ['T', 'count'];

  constructor(dim: number, shifts: number[], count: number) {
    super(dim, shifts, count, 'fusionBlend', 3);
  }

  getUserCode(): string {
    return `${header(this.dim, this.shifts)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  ${FLAT_INDEX}
  let sv = shiftedV(row, t, q, s);
  y[i] = sv + g[i] * (v[i] - sv);
}`;
  }
}

/** dG = dY (V - S(V)); dV[t] = dY[t] G[t] + dY[t+s] (1 - G[t+s]), zero past the end. */
export class FusionBlendGradProgram extends ElementwiseShiftProgram {
  outputNames = ['dg', 'dv'];
  variableNames = ['dy', 'g', 'v'];
  uniformNames = ['T', 'count'];

  constructor(dim: number, shifts: number[], count: number) {
    super(dim, shifts, count, 'fusionBlendGrad', 5);
  }

  getUserCode(): string {
    const width = vectorWidth(this.dim);
    return `${header(this.dim, this.shifts)}
${shiftedReadSnippet('aheadDy', 'dy', width, 1)}
${shiftedReadSnippet('aheadG', 'g', width, 1)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  ${FLAT_INDEX}
  let d = dy[i];
  dg[i] = d * (v[i] - shiftedV(row, t, q, s));
  // Past the end aheadDy is 0, so whatever aheadG returns there is multiplied away.
  dv[i] = d * g[i] + aheadDy(row, t, q, s) * (1.0 - aheadG(row, t, q, s));
}`;
  }
}

function checkBlendInputs(kernel: string, tensors: tf.TensorInfo[]): number {
  const shape = tensors[0].shape;
  if (shape.length !== 3 || tensors.some((t) => !tf.util.arraysEqual(t.shape, shape) || t.dtype !== 'float32')) {
    throw new ShiftmixError(
      `${kernel} needs float32 inputs of one shape [B, T, D], got ${JSON.stringify(tensors.map((t) => t.shape))}`,
      'Pass the gate G and the values V with the same [B, T, D] shape',
      'E_SHAPE',
    );
  }
  return shape[2];
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function fusionBlendForward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { g, v } = inputs as Record<string, tf.TensorInfo>;
  const dim = checkBlendInputs(FUSION_BLEND.name, [g, v]);
  const shifts = checkShiftAttr(attrs?.shifts, dim, FUSION_BLEND.name);
  const be = backend as WebGPUBackend;
  const [batch, time] = v.shape;
  const count = (batch * time * dim) / vectorWidth(dim);
  if (count === 0) return be.makeTensorInfo(v.shape, 'float32', new Float32Array(0));
  const y = be.makeTensorInfo(v.shape, 'float32');
  runProgram(be, new FusionBlendProgram(dim, shifts, count), [g, v], [y], [time, count]);
  return y;
}

export function fusionBlendBackward({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dy, g, v } = inputs as Record<string, tf.TensorInfo>;
  const dim = checkBlendInputs(FUSION_BLEND_GRAD.name, [dy, g, v]);
  const shifts = checkShiftAttr(attrs?.shifts, dim, FUSION_BLEND_GRAD.name);
  const be = backend as WebGPUBackend;
  const [batch, time] = v.shape;
  const count = (batch * time * dim) / vectorWidth(dim);
  if (count === 0) return [0, 1].map(() => be.makeTensorInfo(v.shape, 'float32', new Float32Array(0)));
  const dg = be.makeTensorInfo(v.shape, 'float32');
  const dv = be.makeTensorInfo(v.shape, 'float32');
  runProgram(be, new FusionBlendGradProgram(dim, shifts, count), [dy, g, v], [dg, dv], [time, count]);
  return [dg, dv];
}

FUSION_BLEND.implement(WEBGPU_BACKEND, fusionBlendForward as unknown as tf.KernelFunc);
FUSION_BLEND_GRAD.implement(WEBGPU_BACKEND, fusionBlendBackward as unknown as tf.KernelFunc);
