import { createRequire } from 'node:module';

/**
 * A native fused kernel: every kernel registered with SHIFTMIX_KERNEL is called so. inputs
 * and outputs are in the order of the kernel object's contract (its `inputs`, `outputs`),
 * inputShapes are the inputs' shapes, attrs its attributes by name; the outputs are written.
 */
export type FusedBinding = (inputs: Float32Array[], outputs: Float32Array[], inputShapes: number[][], attrs: object) => void;

/**
 * The addon's functions. Arrays are Float32Array views (of the wasm heap, in shiftmix);
 * every extent is checked against the views before anything is written. Here: what every
 * caller uses; the functions of the kernels that do not follow the fused convention are
 * declared by the glue file that calls them (src/wasm/), which adds them to this interface.
 */
export interface NativeKernels {
  /**
   * The fused kernels, by the name of the core kernel object each implements (exactly
   * `kernel.name`): src/wasm/fused.ts implements those objects under wasm.
   */
  fused: Readonly<Record<string, FusedBinding>>;
  /**
   * The BLAS in use ("openblas", "accelerate", "mkl", "blis", "blas", or "builtin"), its
   * thread count, and the threads of the pool the other kernels share.
   */
  info(): { blas: string; threads: number; poolThreads: number };
  /** Threads the BLAS may use (a no-op for a BLAS without that control). */
  setBlasThreads(threads: number): void;
  /** Threads of the other kernels (attention heads, rows of layer norm, GELU, the loss; AdamW), the caller's included. */
  setPoolThreads(threads: number): void;
  /**
   * c[i] = alpha * op(a[i]) op(b[i]) + beta * c[i] for i < batch, row-major, op a transpose
   * when its flag is 1; matrix i of a starts at i * strideA (0 broadcasts one matrix).
   */
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    batch: number,
    strideA: number,
    strideB: number,
    strideC: number,
    alpha: number,
    beta: number,
  ): void;
}

export type NativeLoad = { kernels: NativeKernels; reason?: undefined } | { kernels?: undefined; reason: string };

let loaded: NativeLoad | undefined;

/**
 * Loads the compiled addon once. `SHIFTMIX_NATIVE=0` turns it off (to compare with the
 * plain wasm path); a missing build says how to make one instead of throwing.
 */
export function loadNative(): NativeLoad {
  if (loaded) return loaded;
  if (process.env.SHIFTMIX_NATIVE === '0') return (loaded = { reason: 'turned off by SHIFTMIX_NATIVE=0' });
  try {
    const require = createRequire(import.meta.url);
    loaded = { kernels: require('../build/Release/shiftmix_native.node') as NativeKernels };
  } catch (error) {
    const first = (error as Error).message.split('\n')[0];
    // npm 12 runs a dependency's install script only when the project allows it.
    loaded = {
      reason: `the addon is not built (${first}); allow its install script ("allowScripts": { "@shiftmix/native": true } in your package.json, or "npm install-scripts approve @shiftmix/native"), then run "npm rebuild @shiftmix/native" (needs a C++ compiler)`,
    };
  }
  return loaded;
}
