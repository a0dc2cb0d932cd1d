import { isShiftmixError, ShiftmixError } from '@shiftmix/core';
import { releaseWebGpu, type AdapterReport } from '@shiftmix/webgpu';

export { parseEntryFlags, writeJsonReport } from '../steps/flags.js';

/**
 * A GPU benchmark that picked its adapter itself (`choice` auto) and found only a software
 * one stops: its figures would describe a CPU rasterizer. Naming a Dawn backend runs anyway.
 */
export function refuseSoftwareAdapter(report: AdapterReport, choice: string, flag: string): void {
  if (!report.software || choice !== 'auto') return;
  throw new ShiftmixError(
    `no GPU adapter: the only WebGPU adapter is ${report.name}, a software one, and these benchmarks measure GPUs`,
    `Run on a machine with a GPU and its Vulkan driver, or pass ${flag} opengles (or null, which runs nothing) to run on it anyway`,
    'E_BACKEND',
  );
}

/**
 * Runs a GPU benchmark's main and exits: Dawn keeps the process alive while a device
 * exists, so the device is released on success and the exit is explicit either way.
 */
export function runGpuEntry(main: () => Promise<void>): void {
  main()
    .then(() => {
      releaseWebGpu();
      process.exit(0);
    })
    .catch((error: unknown) => {
      // The library's errors say what to do; anything else is a bug, and its stack helps.
      if (isShiftmixError(error)) console.error(`error: ${error.message}`);
      else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
