import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isShiftmixError, ShiftmixError } from '@shiftmix/core';
import { releaseWebGpu, type AdapterReport } from '@shiftmix/webgpu';

/**
 * The values of a GPU benchmark's flags. A flag it does not know, or a value where none
 * belongs, stops it with the message and its usage (exit 2) rather than a stack trace.
 */
type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type FlagValues<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

export function parseEntryFlags<O extends FlagOptions>(options: O, usage: string): FlagValues<O> {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

/** Writes a benchmark report as indented JSON, creating its folder. */
export function writeJsonReport(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

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
