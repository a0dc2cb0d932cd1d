import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { releaseWebGpu } from '@shiftmix/webgpu';

/** Writes a benchmark report as indented JSON, creating its folder. */
export function writeJsonReport(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
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
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
