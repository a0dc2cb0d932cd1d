/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
import { syncWebGpu, webGpuDevice, webGpuInfo } from './backend.js';
import type { AdapterReport } from './device.js';

/** Names an adapter well enough that a tuning is only reused on the same kind of GPU and driver. */
export function adapterIdentity(report: AdapterReport): string {
  return [report.vendor, report.architecture, report.description || report.name, report.backend].join(' | ');
}

/** The active webgpu device and its adapter, or an error naming `what` needs them. */
export function activeGpu(what: string): { device: GPUDevice; report: AdapterReport } {
  const device = webGpuDevice();
  const info = webGpuInfo();
  if (!device || !info || tf.getBackend() !== 'webgpu') {
    throw new ShiftmixError(`${what} needs the webgpu backend`, "Call activateWebGpu() or selectBackend('webgpu') first", 'E_BACKEND');
  }
  return { device, report: info.report };
}

/** `value`, or an error naming option `name` of `what` when it is not a whole number >= min. */
export function wholeNumber(what: string, name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ShiftmixError(`${what}: ${name} ${value} is not a whole number >= ${min}`, `Pass ${name} >= ${min}, or leave it out for the default`, 'E_INPUT');
  }
  return value;
}

/** Refuses a saved tuning measured on another adapter than the active one. */
export function checkSameAdapter(what: string, measuredOn: unknown, report: AdapterReport, retune: string): void {
  const here = adapterIdentity(report);
  if (measuredOn !== here) {
    throw new ShiftmixError(`the ${what} was measured on "${String(measuredOn)}", but this adapter is "${here}"`, `Run ${retune} on this adapter`, 'E_INPUT');
  }
}

/**
 * Milliseconds per run of `run` (which records GPU work), by GPU timestamps where the
 * device has them, else by the clock around the drained queue. A few runs first compile
 * the pipeline and let tfjs's buffer pool settle, which would otherwise be charged to
 * whichever candidate ran first.
 */
export async function timeRuns(run: () => void, reps: number, timestamps: boolean): Promise<number> {
  for (let i = 0; i < 3; i++) run();
  await syncWebGpu();
  if (timestamps) {
    const info = await tf.time(() => {
      for (let i = 0; i < reps; i++) run();
    });
    if (typeof info.kernelMs === 'number') return info.kernelMs / reps;
  }
  const start = performance.now();
  for (let i = 0; i < reps; i++) run();
  await syncWebGpu();
  return (performance.now() - start) / reps;
}
