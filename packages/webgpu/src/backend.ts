/// <reference types="@webgpu/types" />
import { ShiftmixError, tf, type BackendInfo } from '@shiftmix/core';
import { type BackendProvider } from '@shiftmix/core/kernels';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { adapterInfo, requestGpuAdapter, requestGpuDevice, type AdapterReport, type GpuAdapterHandle, type WebGpuOptions } from './device.js';
import { WEBGPU_BACKEND } from './kernels.js';
import { checkBackendInternals } from './runtime.js';

export interface WebGpuInfo extends BackendInfo {
  backend: 'webgpu';
  adapter: string;
  software: boolean;
  report: AdapterReport;
}

interface ActiveGpu {
  handle: GpuAdapterHandle;
  device: GPUDevice;
  backend: WebGPUBackend;
  lost: boolean;
  /** Every uncaptured error the device raised (validation, out of memory), in order. */
  errors: string[];
}

let active: ActiveGpu | undefined;
// An adapter hands out one device, so the one found by a probe is kept for activate().
let pending: Promise<GpuAdapterHandle> | undefined;

function findAdapter(options: WebGpuOptions): Promise<GpuAdapterHandle> {
  pending ??= requestGpuAdapter(options).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

/** tfjs-backend-webgpu checks navigator.gpu when constructed; Node has no navigator.gpu. */
function exposeGpu(gpu: GPU): void {
  const scope = globalThis as { navigator?: { gpu?: GPU } };
  if (scope.navigator?.gpu === gpu) return;
  if (scope.navigator && !scope.navigator.gpu) {
    Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  } else if (!scope.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

function infoOf(gpu: ActiveGpu): WebGpuInfo {
  return { backend: 'webgpu', adapter: gpu.handle.report.name, software: gpu.handle.report.software, report: gpu.handle.report };
}

/** Whether a WebGPU adapter is usable, without creating a device or touching tfjs. */
export async function probeWebGpu(options: WebGpuOptions = {}): Promise<{ available: boolean; software: boolean; adapter?: string; reason?: string }> {
  if (active && !active.lost) return { available: true, software: active.handle.report.software, adapter: active.handle.report.name };
  try {
    const { report } = await findAdapter(options);
    return { available: true, software: report.software, adapter: report.name };
  } catch (error) {
    return { available: false, software: false, reason: (error as Error).message };
  }
}

/**
 * Creates the GPU device (best adapter, see requestGpuAdapter), registers the tfjs
 * webgpu backend on it, selects it, and registers the fused kernels. Calling it again
 * reuses the live device.
 */
export async function activateWebGpu(options: WebGpuOptions = {}): Promise<WebGpuInfo> {
  if (active && !active.lost && tf.findBackend(WEBGPU_BACKEND) === active.backend) {
    await tf.setBackend(WEBGPU_BACKEND);
    return infoOf(active);
  }
  const handle = await findAdapter(options);
  pending = undefined;
  const device = await requestGpuDevice(handle.adapter);
  exposeGpu(handle.gpu);
  const backend = new WebGPUBackend(device, adapterInfo(handle.adapter) as GPUAdapterInfo);
  checkBackendInternals(backend);
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  tf.registerBackend(WEBGPU_BACKEND, () => backend, 3);
  if (!(await tf.setBackend(WEBGPU_BACKEND))) {
    throw new ShiftmixError(`the tfjs webgpu backend did not start on ${handle.report.name}`, 'Use --backend wasm', 'E_BACKEND');
  }
  await tf.ready();
  const current: ActiveGpu = { handle, device, backend, lost: false, errors: [] };
  active = current;
  void device.lost.then((info) => {
    current.lost = true;
    if (info.reason !== 'destroyed') console.warn(`shiftmix: the WebGPU device was lost: ${info.message}`);
  });
  const seen = new Set<string>();
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    current.errors.push(message);
    if (!seen.has(message)) console.warn(`shiftmix: WebGPU error: ${message}`);
    seen.add(message);
  });
  return infoOf(current);
}

/** The active adapter's description, or undefined before activateWebGpu. */
export function webGpuInfo(): WebGpuInfo | undefined {
  return active && !active.lost ? infoOf(active) : undefined;
}

/**
 * The errors the active device has raised since activation (validation, out of memory):
 * commands after one may have done nothing, so a benchmark whose step raised one has no
 * valid time. Their count before and after a run says whether it raised any.
 */
export function webGpuErrors(): readonly string[] {
  return active?.errors ?? [];
}

/** The tfjs webgpu backend instance, for code that dispatches its own programs (runProgram). */
export function webGpuBackend(): WebGPUBackend | undefined {
  return active && !active.lost ? active.backend : undefined;
}

/** The GPUDevice under the tfjs webgpu backend (for benchmarks and custom passes). */
export function webGpuDevice(): GPUDevice | undefined {
  return active && !active.lost ? active.device : undefined;
}

/**
 * Submits what the tfjs backend has recorded and waits until the GPU has finished it,
 * so a wall clock around it measures GPU work (benchmarks).
 */
export async function syncWebGpu(): Promise<void> {
  if (!active || active.lost) return;
  const be = active.backend as unknown as { commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void };
  if (be.commandEncoder) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
  await active.device.queue.onSubmittedWorkDone();
}

/**
 * Destroys the buffers tfjs's webgpu backend keeps for reuse (its pool never shrinks), once
 * the queue is done with them: GPU memory that no tensor holds goes back to the device,
 * e.g. between two models trained in one process. Returns the bytes freed.
 */
export async function releasePooledBuffers(): Promise<number> {
  if (!active || active.lost) return 0;
  await syncWebGpu();
  const pool = (active.backend as unknown as { bufferManager: { freeBuffers: Map<string, GPUBuffer[]>; numFreeBuffers: number; numBytesAllocated: number } })
    .bufferManager;
  let bytes = 0;
  for (const buffers of pool.freeBuffers.values()) {
    for (const b of buffers) {
      bytes += b.size;
      b.destroy();
    }
    buffers.length = 0;
  }
  pool.numFreeBuffers = 0;
  pool.numBytesAllocated -= bytes;
  return bytes;
}

/**
 * Removes the tfjs webgpu backend and destroys its device, so a Node process can exit
 * (a live Dawn instance keeps it running). tfjs falls back to its next backend.
 */
export function releaseWebGpu(): void {
  if (!active) return;
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  active.device.destroy();
  const scope = globalThis as { navigator?: { gpu?: GPU } };
  if (scope.navigator?.gpu === active.handle.gpu) delete scope.navigator.gpu;
  active = undefined;
}

/** Registered with core on import, so selectBackend('webgpu' | 'auto') finds this package. */
export const webgpuBackendProvider: BackendProvider = {
  probe: () => probeWebGpu(),
  activate: () => activateWebGpu(),
};
