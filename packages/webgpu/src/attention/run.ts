/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
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
