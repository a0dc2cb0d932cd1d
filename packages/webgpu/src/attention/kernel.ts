/// <reference types="@webgpu/types" />
import { SHIFTMIX_ATTENTION_KERNEL, ShiftmixError, tf, type Tensor } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runProgram } from '../runtime.js';
import { AttentionKeyGradProgram, AttentionQueryGradProgram, AttentionRowDotProgram } from './backward.js';
import { dropoutSeedBits, dropoutThreshold } from './dropout.js';
import { AttentionForwardProgram, type AttentionSetup } from './forward.js';
import { chooseAttentionTiles } from './tiles.js';
import { headLayout } from './wgsl.js';

/** Backward of SHIFTMIX_ATTENTION_KERNEL: inputs {dy, q, k, v, o, lse?}, outputs [dq, dk, dv]. */
export const ATTENTION_GRAD_KERNEL = 'ShiftmixAttentionGrad';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function checkInputs(kernel: string, tensors: Record<string, TensorInfo | undefined>): [number, number, number, number] {
  const q = tensors.q!;
  const bad = q.shape.length !== 4 || Object.values(tensors).some((t) => t && (!tf.util.arraysEqual(t.shape, q.shape) || t.dtype !== 'float32'));
  if (bad) {
    throw new ShiftmixError(
      `${kernel} needs float32 ${Object.keys(tensors).join(', ')} of one shape [B, H, T, hd], got ${JSON.stringify(Object.values(tensors).map((t) => t?.shape))}`,
      'Split the heads first: [B, T, D] -> [B, H, T, hd]',
      'E_SHAPE',
    );
  }
  return q.shape as [number, number, number, number];
}

function setupOf(shape: number[], attrs: tf.NamedAttrMap | undefined): { setup: AttentionSetup; uniforms: number[] } {
  const [batch, heads, length, hd] = shape;
  const rate = Number(attrs?.dropoutRate ?? 0);
  const window = Number(attrs?.window ?? 0);
  if (!(rate >= 0 && rate < 1) || !(Number.isInteger(window) && window >= 0) || batch * heads > 65535) {
    throw new ShiftmixError(
      `fused attention got dropoutRate ${rate}, window ${window}, B*H ${batch * heads}`,
      'Use 0 <= dropoutRate < 1, a whole window >= 0 (0: full) and B*H <= 65535',
      'E_CONFIG',
    );
  }
  const scale = Number(attrs?.scale ?? 1 / Math.sqrt(hd));
  const setup: AttentionSetup = { layout: headLayout(hd), heads: batch * heads, length, scale, dropoutRate: rate, dropoutThreshold: dropoutThreshold(rate) };
  return { setup, uniforms: [length, window, dropoutSeedBits(Number(attrs?.seed ?? 0))] };
}

function limitsOf(backend: WebGPUBackend): GPUSupportedLimits {
  return (backend as unknown as { device: GPUDevice }).device.limits;
}

/** Runs the forward program; returns O and the logsumexp [B, H, T]. */
function forward(be: WebGPUBackend, q: TensorInfo, k: TensorInfo, v: TensorInfo, attrs?: tf.NamedAttrMap): [TensorInfo, TensorInfo] {
  const { setup, uniforms } = setupOf(q.shape, attrs);
  const tiles = chooseAttentionTiles(setup.layout.hd, limitsOf(be));
  const o = be.makeTensorInfo(q.shape, 'float32');
  const lse = be.makeTensorInfo(q.shape.slice(0, 3), 'float32');
  runProgram(be, new AttentionForwardProgram(setup, tiles.forward), [q, k, v], [o, lse], uniforms);
  return [o, lse];
}

// The logsumexp of each forward run under a gradient tape, keyed by its output's dataId,
// until the gradient takes it. The kernel's single output is the contract with core; an
// output never differentiated releases its entry when the tensor is collected.
const savedLse = new WeakMap<object, TensorInfo>();
const release = new FinalizationRegistry<{ be: WebGPUBackend; lse: TensorInfo }>(({ be, lse }) => be.disposeData(lse.dataId));

function recording(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

export function attentionForward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { q, k, v } = inputs as Record<string, TensorInfo>;
  const shape = checkInputs(SHIFTMIX_ATTENTION_KERNEL, { q, k, v });
  const be = backend as WebGPUBackend;
  if (tf.util.sizeFromShape(shape) === 0) return be.makeTensorInfo(shape, 'float32', new Float32Array(0));
  const [o, lse] = forward(be, q, k, v, attrs);
  if (recording()) {
    savedLse.set(o.dataId, lse);
    release.register(o.dataId, { be, lse }, o.dataId);
  } else {
    be.disposeData(lse.dataId);
  }
  return o;
}

export function attentionBackward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { dy, q, k, v, o } = inputs as Record<string, TensorInfo>;
  const shape = checkInputs(ATTENTION_GRAD_KERNEL, { q, k, v, o, dy });
  const be = backend as WebGPUBackend;
  if (tf.util.sizeFromShape(shape) === 0) return [q, k, v].map(() => be.makeTensorInfo(shape, 'float32', new Float32Array(0)));
  const { setup, uniforms } = setupOf(shape, attrs);
  const tiles = chooseAttentionTiles(setup.layout.hd, limitsOf(be));
  // Without a saved logsumexp (a gradient of a run outside the tape) the forward recomputes it.
  const given = inputs.lse as TensorInfo | undefined;
  const recomputed = given ? undefined : forward(be, q, k, v, attrs);
  const lse = given ?? recomputed![1];
  const d = be.makeTensorInfo(shape.slice(0, 3), 'float32');
  runProgram(be, new AttentionRowDotProgram(setup), [dy, o], [d], [setup.heads * setup.length]);
  const [dq, dk, dv] = [0, 1, 2].map(() => be.makeTensorInfo(shape, 'float32'));
  runProgram(be, new AttentionKeyGradProgram(setup, tiles.keyGrad), [q, k, v, dy, lse, d], [dk, dv], uniforms);
  runProgram(be, new AttentionQueryGradProgram(setup, tiles.queryGrad), [q, k, v, dy, lse, d], [dq], uniforms);
  be.disposeData(d.dataId);
  if (recomputed) recomputed.forEach((t) => be.disposeData(t.dataId));
  return [dq, dk, dv];
}

/** The saved logsumexp of forward output `o` as a tensor of the current scope, if any. */
function takeLse(o: Tensor): Tensor | undefined {
  const info = savedLse.get(o.dataId);
  if (!info) return undefined;
  savedLse.delete(o.dataId);
  release.unregister(o.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

export const attentionKernelConfigs: tf.KernelConfig[] = [
  { kernelName: SHIFTMIX_ATTENTION_KERNEL, backendName: 'webgpu', kernelFunc: attentionForward as unknown as tf.KernelFunc },
  { kernelName: ATTENTION_GRAD_KERNEL, backendName: 'webgpu', kernelFunc: attentionBackward as unknown as tf.KernelFunc },
];

export const attentionGradConfig: tf.GradConfig = {
  kernelName: SHIFTMIX_ATTENTION_KERNEL,
  inputsToSave: ['q', 'k', 'v'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [q, k, v, o] = saved;
    const lse = takeLse(o);
    const inputs: tf.NamedTensorMap = lse ? { dy: dy as Tensor, q, k, v, o, lse } : { dy: dy as Tensor, q, k, v, o };
    const [dq, dk, dv] = tf.engine().runKernel(ATTENTION_GRAD_KERNEL, inputs, attrs) as Tensor[];
    return { q: () => dq, k: () => dk, v: () => dv };
  },
};

/** Registers the fused attention kernels for webgpu and the gradient (idempotent). */
export function registerAttentionKernels(): void {
  for (const config of attentionKernelConfigs) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  if (!tf.getGradient(SHIFTMIX_ATTENTION_KERNEL)) tf.registerGradient(attentionGradConfig);
}
