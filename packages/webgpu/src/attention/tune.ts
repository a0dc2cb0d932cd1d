/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
import { webGpuBackend, webGpuDevice } from '../backend.js';
import { activeGpu, adapterIdentity, checkSameAdapter, timeRuns, wholeNumber } from '../tuning.js';
import { launchOf, runForward, runGradProgram, runRowDot } from './run.js';
import {
  ATTENTION_BLOCKS,
  EXTRA_ATTENTION_BLOCKS,
  attentionBlockFits,
  chooseAttentionTiles,
  clearTunedAttentionTiles,
  setTunedAttentionTiles,
  type AttentionTiles,
} from './tiles.js';

type Kind = keyof AttentionTiles;
const KINDS: Kind[] = ['forward', 'keyGrad', 'queryGrad'];

/** One block's time per run of its kernel. */
export interface AttentionBlockTiming {
  block: { bq: number; bk: number };
  ms: number;
}

/** What tuneAttentionTiles measured: plain JSON, to save and hand to applyAttentionTuning later. */
export interface AttentionTuningResult {
  /** The adapter it was measured on (see adapterIdentity). */
  adapter: string;
  headDim: number;
  /** Sequence length and number of (batch, head) pairs that were timed. */
  length: number;
  heads: number;
  clock: 'gpu' | 'wall';
  /** Per kernel, fastest first. */
  timings: { [K in Kind]: AttentionBlockTiming[] };
  /** The fastest block of each kernel: what the device now uses for this head width. */
  tiles: AttentionTiles;
}

export interface TuneAttentionOptions {
  /** Head width hd of the model's attention. */
  headDim: number;
  /** Sequence length timed. Default 1024 on a hardware adapter, 64 on a software one. */
  length?: number;
  /** (batch, head) pairs timed. Default 24 on a hardware adapter, 2 on a software one. */
  heads?: number;
  /** Runs timed per block, after three that compile its pipeline. Default 5. */
  reps?: number;
}

/**
 * Times each block shape of each flash-attention kernel (forward, dK/dV, dQ) on the
 * active adapter, one kernel at a time at a causal [1, heads, length, headDim] problem,
 * and makes the fastest of each this device's choice for that head width. The default
 * choice is the largest block that fits, which need not be the fastest: larger blocks
 * use more workgroup memory and leave fewer workgroups running per core.
 */
export async function tuneAttentionTiles(options: TuneAttentionOptions): Promise<AttentionTuningResult> {
  const what = 'tuneAttentionTiles';
  const { device, report } = activeGpu(what);
  const headDim = wholeNumber(what, 'headDim', options.headDim, 1);
  const length = wholeNumber(what, 'length', options.length ?? (report.software ? 64 : 1024), 1);
  const heads = wholeNumber(what, 'heads', options.heads ?? (report.software ? 2 : 24), 1);
  const reps = wholeNumber(what, 'reps', options.reps ?? 5, 1);
  const be = webGpuBackend()!;
  const defaults = chooseAttentionTiles(headDim, device.limits);
  const launch = launchOf(be, [1, heads, length, headDim], false, {});
  const dims = [1, heads, length, headDim];
  const [q, k, v, dy] = [1, 2, 3, 4].map((seed) => tf.randomNormal(dims, 0, 1, 'float32', seed));
  const rows = [q, k, v];
  const [o, lse] = runForward(be, { ...launch, tiles: defaults }, rows, dims);
  const d = runRowDot(be, launch, dy, o);
  const timestamps = device.features.has('timestamp-query');
  const timings = {} as AttentionTuningResult['timings'];
  try {
    for (const kind of KINDS) {
      const candidates = [...ATTENTION_BLOCKS[kind], ...EXTRA_ATTENTION_BLOCKS[kind]].filter((block) =>
        attentionBlockFits(kind, block, headDim, device.limits),
      );
      timings[kind] = [];
      for (const block of candidates) {
        const tiles = { ...defaults, [kind]: block };
        const trial = { ...launch, tiles };
        const run = () => {
          if (kind === 'forward') {
            for (const out of runForward(be, trial, rows, dims)) be.disposeData(out.dataId);
            return;
          }
          const outputs = kind === 'keyGrad' ? [be.makeTensorInfo(dims, 'float32'), be.makeTensorInfo(dims, 'float32')] : [be.makeTensorInfo(dims, 'float32')];
          runGradProgram(be, trial, kind, [...rows, dy, lse, d], outputs);
          for (const out of outputs) be.disposeData(out.dataId);
        };
        timings[kind].push({ block, ms: await timeRuns(run, reps, timestamps) });
      }
      timings[kind].sort((x, y) => x.ms - y.ms);
    }
  } finally {
    tf.dispose([q, k, v, dy]);
    for (const info of [o, lse, d]) be.disposeData(info.dataId);
  }
  const tiles: AttentionTiles = { forward: timings.forward[0].block, keyGrad: timings.keyGrad[0].block, queryGrad: timings.queryGrad[0].block };
  setTunedAttentionTiles(device, headDim, tiles);
  return { adapter: adapterIdentity(report), headDim, length, heads, clock: timestamps ? 'gpu' : 'wall', timings, tiles };
}

function isBlock(x: unknown): x is { bq: number; bk: number } {
  const b = x as { bq?: unknown; bk?: unknown } | null;
  return !!b && [b.bq, b.bk].every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 4 && n % 4 === 0);
}

/**
 * Makes a saved tuneAttentionTiles result this device's choice for its head width.
 * Refused when it was measured on another adapter, when a block does not fit this
 * device, or when it is not such a result (a damaged file, say).
 */
export function applyAttentionTuning(result: AttentionTuningResult): void {
  const { device, report } = activeGpu('applyAttentionTuning');
  const tiles = result?.tiles;
  if (!tiles || typeof result.adapter !== 'string' || !Number.isInteger(result.headDim) || !KINDS.every((kind) => isBlock(tiles[kind]))) {
    throw new ShiftmixError(
      'the attention tuning is not a tuneAttentionTiles result: it lacks the adapter, the head width or a block per kernel',
      'Run tuneAttentionTiles again and save what it returns',
      'E_INPUT',
    );
  }
  checkSameAdapter('attention tuning', result.adapter, report, 'tuneAttentionTiles');
  const misfit = KINDS.find((kind) => !attentionBlockFits(kind, tiles[kind], result.headDim, device.limits));
  if (misfit) throw new ShiftmixError(`the tuned ${misfit} block does not fit this device's limits`, 'Run tuneAttentionTiles on this adapter', 'E_INPUT');
  setTunedAttentionTiles(device, result.headDim, { forward: tiles.forward, keyGrad: tiles.keyGrad, queryGrad: tiles.queryGrad });
}

/** Back to the default blocks on the active device, for every head width. */
export function clearAttentionTuning(): void {
  const device = webGpuDevice();
  if (device) clearTunedAttentionTiles(device);
}
