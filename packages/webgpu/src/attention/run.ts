/// <reference types="@webgpu/types" />
import { ShiftmixError, tf, type Tensor } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { runProgram } from '../runtime.js';
import { AttentionKeyGradProgram, AttentionQueryGradProgram, AttentionRowDotProgram } from './backward.js';
import { dropoutSeedBits, dropoutThreshold } from './dropout.js';
import { AttentionForwardProgram, type AttentionSetup } from './forward.js';
import { chooseAttentionTiles, type AttentionTiles } from './tiles.js';
import { headLayout } from './wgsl.js';

type TensorInfo = tf.TensorInfo;

/** Everything one attention call launches with: programs' setup, tiles and uniforms. */
export interface AttentionLaunch {
  setup: AttentionSetup;
  tiles: AttentionTiles;
  /** T, window, seed. */
  uniforms: number[];
  /** [B, H, T]: the logsumexp's shape (the same in both layouts). */
  lseShape: number[];
}

function deviceOf(backend: WebGPUBackend): GPUDevice {
  return (backend as unknown as { device: GPUDevice }).device;
}

/**
 * The launch of attention over `batch` sequences of `heads` heads of hd channels;
 * packed: the rows are token-major (see HeadLayout), else [B, H, T, hd].
 */
export function launchOf(be: WebGPUBackend, [batch, heads, length, hd]: number[], packed: boolean, attrs: tf.NamedAttrMap | undefined): AttentionLaunch {
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
  const layout = headLayout(hd, packed ? heads : 0);
  const setup: AttentionSetup = { layout, heads: batch * heads, length, scale, dropoutRate: rate, dropoutThreshold: dropoutThreshold(rate) };
  const device = deviceOf(be);
  const tiles = chooseAttentionTiles(hd, device.limits, device);
  return { setup, tiles, uniforms: [length, window, dropoutSeedBits(Number(attrs?.seed ?? 0))], lseShape: [batch, heads, length] };
}

/** Runs the forward program on `rows` (q, k, v, or the packed qkv); returns O and the logsumexp [B, H, T]. */
export function runForward(be: WebGPUBackend, launch: AttentionLaunch, rows: TensorInfo[], outShape: number[]): [TensorInfo, TensorInfo] {
  const { setup, tiles, uniforms, lseShape } = launch;
  const o = be.makeTensorInfo(outShape, 'float32');
  const lse = be.makeTensorInfo(lseShape, 'float32');
  runProgram(be, new AttentionForwardProgram(setup, tiles.forward), rows, [o, lse], uniforms);
  return [o, lse];
}

/**
 * Runs the three backward programs. rows: q, k, v (or qkv); outputs: [dk, dv] and [dq]
 * as the key-grad and query-grad programs write them (packed: [dqkv] and [dqkv]).
 */
export function runBackward(
  be: WebGPUBackend,
  launch: AttentionLaunch,
  rows: TensorInfo[],
  dy: TensorInfo,
  o: TensorInfo,
  lse: TensorInfo,
  outputs: { keyGrad: TensorInfo[]; queryGrad: TensorInfo[] },
): void {
  const d = runRowDot(be, launch, dy, o);
  runGradProgram(be, launch, 'keyGrad', [...rows, dy, lse, d], outputs.keyGrad);
  runGradProgram(be, launch, 'queryGrad', [...rows, dy, lse, d], outputs.queryGrad);
  be.disposeData(d.dataId);
}

/** D = rowsum(dO * O) [B, H, T], the correction both gradient programs read. */
export function runRowDot(be: WebGPUBackend, launch: AttentionLaunch, dy: TensorInfo, o: TensorInfo): TensorInfo {
  const { setup, lseShape } = launch;
  const d = be.makeTensorInfo(lseShape, 'float32');
  runProgram(be, new AttentionRowDotProgram(setup), [dy, o], [d], [setup.heads * setup.length, setup.length]);
  return d;
}

/** One gradient program: inputs q, k, v (or qkv), dO, lse, D; outputs as runBackward's. */
export function runGradProgram(be: WebGPUBackend, launch: AttentionLaunch, kind: 'keyGrad' | 'queryGrad', inputs: TensorInfo[], outputs: TensorInfo[]): void {
  const { setup, tiles, uniforms } = launch;
  const program = kind === 'keyGrad' ? new AttentionKeyGradProgram(setup, tiles.keyGrad) : new AttentionQueryGradProgram(setup, tiles.queryGrad);
  runProgram(be, program, inputs, outputs, uniforms);
}

// The logsumexp of each forward run under a gradient tape, keyed by its output's dataId,
// until the gradient takes it. A kernel's single output is the contract with core; an
// output never differentiated releases its entry when the tensor is collected.
const savedLse = new WeakMap<object, TensorInfo>();
const release = new FinalizationRegistry<{ be: WebGPUBackend; lse: TensorInfo }>(({ be, lse }) => be.disposeData(lse.dataId));

function recording(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/** Keeps the logsumexp of forward output `o` for its gradient while a tape records, else frees it. */
export function keepLse(be: WebGPUBackend, o: TensorInfo, lse: TensorInfo): void {
  if (recording()) {
    savedLse.set(o.dataId, lse);
    release.register(o.dataId, { be, lse }, o.dataId);
  } else {
    be.disposeData(lse.dataId);
  }
}

/** The saved logsumexp of forward output `o` as a tensor of the current scope, if any. */
export function takeLse(o: Tensor): Tensor | undefined {
  const info = savedLse.get(o.dataId);
  if (!info) return undefined;
  savedLse.delete(o.dataId);
  release.unregister(o.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}
