import { ShiftmixError, tf } from '@shiftmix/core';
import { DROPOUT, dropoutHash, dropoutScale, dropoutSeedKeys, dropoutThreshold } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MIX32_WGSL } from './attention/dropout.js';
import { WEBGPU_BACKEND, foldedDispatch, runProgram, Program } from './runtime.js';

// Inverted dropout on the device: inputs {x}, attrs {rate, seed}, output x * keep / (1 - rate).
// Element i is kept when hash(seed, i) >= rate * 2^32, so a seed always gives the same
// mask, the backward pass remakes it instead of storing it, and no random numbers are
// drawn on the host (tf.dropout draws its uniform noise in JavaScript on webgpu).
// The mask is not tf.dropout's mask for the same seed.

const WORKGROUP = 256;

// The hash and its keys are core's (kernels/dropout-hash.ts), shared with the other backends.
export { dropoutHash, dropoutScale };

/** The reinterpretation of a u32 or f32 as the i32 a uniform carries. */
function asI32(value: number, float = false): number {
  return float ? new Int32Array(new Float32Array([value]).buffer)[0] : value | 0;
}

/** y = x * scale where hash(seed, i) >= threshold, else 0; one thread per vec4 (or element). */
export class DropoutProgram extends Program {
  outputNames = ['y'];
  variableNames = ['x'];
  uniformNames = ['count', 'key1', 'key2', 'threshold', 'scale'];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    private readonly width: 1 | 4,
    count: number,
  ) {
    super();
    this.components = [width, width];
    this.dispatch = foldedDispatch(Math.ceil(count / WORKGROUP));
    this.shaderKey = `dropout_${width}`;
  }

  getUserCode(): string {
    const keep = (lane: string) => `select(0.0, scale, hashOf(base + ${lane}) >= threshold)`;
    const body =
      this.width === 4
        ? `let base = u32(i) * 4u;
  y[i] = x[i] * vec4<f32>(${keep('0u')}, ${keep('1u')}, ${keep('2u')}, ${keep('3u')});`
        : `let base = u32(i);
  y[i] = x[i] * ${keep('0u')};`;
    return `${MIX32_WGSL}
fn hashOf(index: u32) -> u32 {
  return mix32(mix32(index + bitcast<u32>(uniforms.key1)) ^ bitcast<u32>(uniforms.key2));
}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let i = (wid.y * nwg.x + wid.x) * ${WORKGROUP} + lid.x;
  if (i >= uniforms.count) { return; }
  let threshold = bitcast<u32>(uniforms.threshold);
  let scale = bitcast<f32>(uniforms.scale);
  ${body}
}`;
  }
}

function checkDropout(x: tf.TensorInfo, attrs: tf.NamedAttrMap | undefined): { rate: number; seed: number } {
  const rate = attrs?.rate as number;
  const seed = attrs?.seed as number;
  if (x.dtype !== 'float32' || !(rate >= 0 && rate < 1) || !Number.isFinite(seed)) {
    throw new ShiftmixError(
      `${DROPOUT.name} needs float32 x, attrs.rate in [0, 1) and a finite attrs.seed, got ${x.dtype}, rate ${rate}, seed ${seed}`,
      "Call core's dropout(x, rate, training, seed) with 0 <= rate < 1",
      'E_INPUT',
    );
  }
  return { rate, seed: Math.trunc(seed) >>> 0 };
}

export function dropoutForward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const { rate, seed } = checkDropout(x, attrs);
  const be = backend as WebGPUBackend;
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return be.makeTensorInfo(x.shape, 'float32', new Float32Array(0));
  const width = size % 4 === 0 ? 4 : 1;
  const count = size / width;
  const [key1, key2] = dropoutSeedKeys(seed);
  const y = be.makeTensorInfo(x.shape, 'float32');
  const uniforms = [count, asI32(key1), asI32(key2), asI32(dropoutThreshold(rate)), asI32(dropoutScale(rate), true)];
  runProgram(be, new DropoutProgram(width, count), [x], [y], uniforms);
  return y;
}

DROPOUT.implement(WEBGPU_BACKEND, dropoutForward as unknown as tf.KernelFunc);
