import type { NativeKernels } from '@shiftmix/native';

/** Whether the native kernels run under the wasm backend, and why not when they do not. */
export interface NativeStatus {
  available: boolean;
  /** The BLAS the matrix products use, when available. */
  blas?: string;
  reason?: string;
}

let kernels: NativeKernels | undefined;
let status: NativeStatus = { available: false, reason: 'not loaded yet' };

/**
 * Loads @shiftmix/native when it is installed and built (an optional dependency: its
 * install compiles C++). Without it the wasm backend runs tfjs's own kernels.
 */
export async function loadNativeKernels(): Promise<NativeStatus> {
  if (kernels) return status;
  try {
    const specifier = '@shiftmix/native';
    const mod = (await import(/* @vite-ignore */ specifier)) as typeof import('@shiftmix/native');
    const load = mod.loadNative();
    if (load.kernels) {
      kernels = load.kernels;
      status = { available: true, blas: kernels.info().blas };
    } else {
      status = { available: false, reason: load.reason };
    }
  } catch {
    status = { available: false, reason: '@shiftmix/native is not installed (npm install @shiftmix/native; it compiles with a C++ compiler)' };
  }
  return status;
}

/** The loaded native kernels, if loadNativeKernels found them. */
export function nativeKernels(): NativeKernels | undefined {
  return kernels;
}

/** What loadNativeKernels found. */
export function nativeStatus(): NativeStatus {
  return status;
}
