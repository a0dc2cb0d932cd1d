import { type BackendInfo } from '@shiftmix/core';
import { loadWasmBackend, registerBackendProvider, startWasmBackend, type BackendProvider, type BackendThreads } from '@shiftmix/core/kernels';
import { loadNative, type NativeKernels } from '../addon.js';
import { attentionKernels } from './attention.js';
import { replaceWasmKernels } from './replaced.js';
import { nativeShiftKernels } from './shift.js';
import { nativeTrainingKernels } from './train.js';

// The wasm backend with this package's C++ kernels: core's selectBackend('wasm') imports
// the package, which registers this provider; without the package core runs tfjs's own.

let implemented = false;

/**
 * Implements the native kernels under wasm: core's fused kernels (attention, layer norms,
 * bias + GELU, dropout, the loss, AdamW, the shift mixers) and tfjs's BatchMatMul, Sum,
 * GatherV2 and Identity replaced (replaced.ts). Once; before the backend starts.
 */
function implementNativeKernels(native: NativeKernels): void {
  if (implemented) return;
  implemented = true;
  replaceWasmKernels(native);
  // Attention runs on the pool's threads (0), which `threads` sizes.
  for (const [kernel, kernelFunc] of [...attentionKernels(native, () => 0), ...nativeTrainingKernels(native), ...nativeShiftKernels(native)]) {
    kernel.implement('wasm', kernelFunc);
  }
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
    implementNativeKernels(native);
    await startWasmBackend();
    return { backend: 'wasm', kernels: `native, ${native.info().blas}`, threads };
  },
};

registerBackendProvider('wasm', nativeWasmProvider);
