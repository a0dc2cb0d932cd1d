import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '@shiftmix/core';
// Types only: the package itself is an optional dependency, loaded on demand below.
import type { ModelKernelTuning, TunedModel } from '@shiftmix/webgpu';
import type { Io } from '../command.js';
import { InputError } from '../errors.js';

/** @shiftmix/webgpu as the CLI uses it. */
export type WebGpuModule = typeof import('@shiftmix/webgpu');

type Block = { bq: number; bk: number };

/** @shiftmix/webgpu, or an error naming `what` needs it and how to install it. */
export async function loadWebGpu(what: string): Promise<WebGpuModule> {
  try {
    const specifier = '@shiftmix/webgpu';
    return (await import(/* @vite-ignore */ specifier)) as WebGpuModule;
  } catch (error) {
    throw new InputError(
      `${what} lives in @shiftmix/webgpu, which does not load (${(error as Error).message.split('\n')[0]})`,
      'Install it next to shiftmix: npm install @shiftmix/webgpu',
    );
  }
}

/** Where a run keeps the kernel choices tuned for it. */
export const KERNEL_TUNING_FILE = 'kernel-tuning.json';

/** Refuses --tune off webgpu, before anything is trained. */
export function checkTune(tune: boolean | undefined, backend: BackendInfo): void {
  if (tune && backend.backend !== 'webgpu') {
    throw new InputError(
      `--tune tunes the webgpu kernels, but this run is on ${backend.backend}`,
      'Use --backend webgpu on a machine with a GPU, or leave --tune out',
    );
  }
}

const block = (b: Block) => `${b.bq}x${b.bk}`;

/**
 * Times the matmul tiles, and the attention blocks when the model has attention, on
 * this GPU at the run's training shape; keeps the fastest and saves them in the run.
 */
export async function tuneForRun(io: Io, outDir: string, model: TunedModel, batch: number): Promise<void> {
  // A built model: tuning reads its shape and the kernels its blocks' mixers run.
  const webgpu = await loadWebGpu('--tune');
  const tuning = await webgpu.tuneModelKernels(model, batch);
  const { matmul, attention } = tuning;
  const [best] = matmul.timings;
  const { bm, bn, bk, tm, tn, subgroups } = best.tile;
  io.stderr(
    `shiftmix: matmul tiles tuned at ${matmul.size}^3 (${matmul.clock} clock): fastest ${bm}x${bn}x${bk} (${tm}x${tn}${subgroups ? ', subgroups' : ''}), ${best.ms.toFixed(3)} ms\n`,
  );
  if (attention) {
    const { forward, keyGrad, queryGrad } = attention.tiles;
    io.stderr(
      `shiftmix: attention blocks tuned at T ${attention.length}, hd ${attention.headDim}: forward ${block(forward)}, dK/dV ${keyGrad.bk}x${keyGrad.bq}, dQ ${block(queryGrad)}\n`,
    );
  }
  writeFileSync(path.join(outDir, KERNEL_TUNING_FILE), `${JSON.stringify(tuning, null, 2)}\n`);
}

/**
 * On webgpu, puts back the kernel choices a run was tuned with. A tuning measured on
 * another GPU, or a damaged file, leaves the defaults with a warning: the run is fine.
 */
export async function reapplyTuning(io: Io, outDir: string, backend: BackendInfo): Promise<void> {
  const file = path.join(outDir, KERNEL_TUNING_FILE);
  if (backend.backend !== 'webgpu' || !existsSync(file)) return;
  const webgpu = await loadWebGpu('the saved kernel tuning');
  try {
    webgpu.applyModelKernelTuning(JSON.parse(readFileSync(file, 'utf8')) as ModelKernelTuning);
    io.stderr(`shiftmix: kernel choices from ${KERNEL_TUNING_FILE}\n`);
  } catch (error) {
    io.stderr(`shiftmix: warning: ${KERNEL_TUNING_FILE} not used (${(error as Error).message.split('\n')[0]}); pass --tune to tune again\n`);
  }
}
