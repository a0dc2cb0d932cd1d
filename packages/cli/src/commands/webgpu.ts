import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '@shiftmix/core';
import type { Io } from '../command.js';
import { InputError } from '../errors.js';

/** What the CLI uses of @shiftmix/webgpu, an optional dependency loaded on demand. */
export interface WebGpuModule {
  profileStep(fn: () => Promise<void>, options?: { warmup?: number }): Promise<{ source: string }>;
  formatProfile(profile: unknown, top?: number): string;
  tuneMatMulTiles(): Promise<MatMulTuning>;
  applyMatMulTuning(result: MatMulTuning): void;
}

interface MatMulTuning {
  size: number;
  clock: string;
  timings: { tile: { bm: number; bn: number; bk: number; tm: number; tn: number; subgroups?: boolean }; ms: number }[];
}

/** @shiftmix/webgpu, or an error naming `what` needs it and how to install it. */
export async function loadWebGpu(what: string): Promise<WebGpuModule> {
  try {
    const specifier = '@shiftmix/webgpu';
    return (await import(/* @vite-ignore */ specifier)) as WebGpuModule;
  } catch (error) {
    throw new InputError(`${what} lives in @shiftmix/webgpu, which does not load (${(error as Error).message.split('\n')[0]})`, 'Install it next to shiftmix: npm install @shiftmix/webgpu');
  }
}

/** Where a run keeps the matmul tile order tuned for it. */
export const MATMUL_TUNING_FILE = 'matmul-tuning.json';

/** Refuses --tune-matmul off webgpu, before anything is trained. */
export function checkTuneMatMul(tune: boolean | undefined, backend: BackendInfo): void {
  if (tune && backend.backend !== 'webgpu') {
    throw new InputError(`--tune-matmul tunes the webgpu matmul, but this run is on ${backend.backend}`, 'Use --backend webgpu on a machine with a GPU, or leave --tune-matmul out');
  }
}

/** Times the matmul tiles on this GPU, keeps the fastest order, and saves it in the run. */
export async function tuneMatMulForRun(io: Io, outDir: string): Promise<void> {
  const webgpu = await loadWebGpu('--tune-matmul');
  const result = await webgpu.tuneMatMulTiles();
  writeFileSync(path.join(outDir, MATMUL_TUNING_FILE), `${JSON.stringify(result, null, 2)}\n`);
  const [best] = result.timings;
  const { bm, bn, bk, tm, tn, subgroups } = best.tile;
  io.stderr(`shiftmix: matmul tiles tuned at ${result.size}^3 (${result.clock} clock): fastest ${bm}x${bn}x${bk} (${tm}x${tn}${subgroups ? ', subgroups' : ''}), ${best.ms.toFixed(3)} ms\n`);
}

/**
 * On webgpu, puts back the tile order a run was tuned with. One measured on another GPU,
 * or a damaged file, leaves the default order with a warning: the run itself is fine.
 */
export async function reapplyMatMulTuning(io: Io, outDir: string, backend: BackendInfo): Promise<void> {
  const file = path.join(outDir, MATMUL_TUNING_FILE);
  if (backend.backend !== 'webgpu' || !existsSync(file)) return;
  const webgpu = await loadWebGpu('the saved matmul tuning');
  try {
    webgpu.applyMatMulTuning(JSON.parse(readFileSync(file, 'utf8')) as MatMulTuning);
    io.stderr(`shiftmix: matmul tile order from ${MATMUL_TUNING_FILE}\n`);
  } catch (error) {
    io.stderr(`shiftmix: warning: ${MATMUL_TUNING_FILE} not used (${(error as Error).message.split('\n')[0]}); pass --tune-matmul to tune again\n`);
  }
}
