import { type BackendInfo } from '@shiftmix/core';
import { loadWasmBackend, registerBackendProvider, startWasmBackend, type BackendProvider, type BackendThreads } from '@shiftmix/core/kernels';
import { loadNative, type NativeKernels } from '../addon.js';
import { replaceWasmKernels } from './replaced.js';

// The wasm backend with this package's C++ kernels: core's selectBackend('wasm') imports
// the package, which registers this provider; without the package core runs tfjs's own.

let replaced = false;

/**
 * Replaces tfjs's BatchMatMul, Sum, GatherV2, Identity (replaced.ts) and the kernels that
 * move rows (rows.ts) under wasm: once,
 * after tfjs's wasm kernels are registered and before the backend starts. core's fused
 * kernels are implemented when the package is imported (fused.ts, and the glue files of
 * the kernels with calls of their own), or when they are defined if that comes later.
 */
function replaceOnce(native: NativeKernels): void {
  if (replaced) return;
  replaced = true;
  replaceWasmKernels(native);
}

/** The BLAS's and the pool's threads, set together: data-parallel workers split the cores. */
const threads: BackendThreads = {
  get: () => loadNative().kernels?.info().poolThreads ?? 1,
  set: (count) => {
    const native = loadNative().kernels;
    native?.setBlasThreads(count);
    native?.setPoolThreads(count);
  },
};

export const nativeWasmProvider: BackendProvider = {
  threads,
  async probe() {
    const load = loadNative();
    return load.kernels ? { available: true } : { available: false, reason: load.reason };
  },
  async activate(): Promise<BackendInfo> {
    const { kernels: native, reason } = loadNative();
    if (!native) throw new Error(`@shiftmix/native cannot run: ${reason}`);
    await loadWasmBackend();
    replaceOnce(native);
    await startWasmBackend();
    return { backend: 'wasm', kernels: `native, ${native.info().blas}`, threads };
  },
};

registerBackendProvider('wasm', nativeWasmProvider);
