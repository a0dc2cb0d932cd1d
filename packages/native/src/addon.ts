import { createRequire } from 'node:module';

/**
 * The addon's functions. Arrays are Float32Array views (of the wasm heap, in shiftmix);
 * every extent is checked against the views before anything is written.
 */
export interface NativeKernels {
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
  /**
   * Causal attention. The 15 numbers: batch, heads, length, headDim, scale, window (0: full),
   * dropoutRate, seed, then the strides (batch, head, row) of q/k/v and of out, and threads
   * (1: this thread only; else the pool's).
   */
  attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, ...params: number[]): void;
  /** Gradients of attentionForward; lse null recomputes it. Same 15 numbers. */
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    dOut: Float32Array,
    lse: Float32Array | null,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    ...params: number[]
  ): void;
  /** Layer norm of `rows` rows of `dim`; with h (and sum) the row is x + h, written to sum first. */
  layerNormForward(
    x: Float32Array,
    h: Float32Array | null,
    gamma: Float32Array,
    beta: Float32Array,
    sum: Float32Array | null,
    normed: Float32Array,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  /** dx (+ dres), dgamma, dbeta of layer norm at input x. */
  layerNormBackward(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    dres: Float32Array | null,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  /** y = x * scale where the project's dropout hash of (keys, index) >= threshold, else 0 (see core's dropoutHash). */
  dropout(x: Float32Array, y: Float32Array, key1: number, key2: number, threshold: number, scale: number): void;
  /** out[c] = the sum of column c of x [rows, cols]. */
  columnSums(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** y = gelu(x + b), tanh form, b one entry per column. */
  biasGeluForward(x: Float32Array, b: Float32Array, y: Float32Array, rows: number, dim: number): void;
  biasGeluBackward(dy: Float32Array, x: Float32Array, b: Float32Array, dx: Float32Array, db: Float32Array, rows: number, dim: number): void;
  /** Mean cross-entropy over rows with 0 <= target < vocab (NaN if a target >= vocab); fills lse [rows]. */
  crossEntropyForward(logits: Float32Array, targets: Int32Array, lse: Float32Array, rows: number, vocab: number): number;
  crossEntropyBackward(dy: number, logits: Float32Array, targets: Int32Array, lse: Float32Array, dlogits: Float32Array, rows: number, vocab: number): void;
  /** y = S(x) over x [batch, length, dim], or with back 1 the other way (y[t] = x[t + s]), S's gradient. */
  groupShift(x: Float32Array, y: Float32Array, back: number, shifts: Int32Array, batch: number, length: number, dim: number): void;
  /** y = a * u + b * S(u) over u [batch, length, dim]; channel groups as core's channelGroups, one shift each. */
  hsmAbForward(u: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array, shifts: Int32Array, batch: number, length: number, dim: number): void;
  hsmAbBackward(
    dy: Float32Array,
    u: Float32Array,
    a: Float32Array,
    b: Float32Array,
    du: Float32Array,
    da: Float32Array,
    db: Float32Array,
    shifts: Int32Array,
    batch: number,
    length: number,
    dim: number,
  ): void;
  /** y = S(v) + g * (v - S(v)), the learned-fusion blend. */
  fusionBlendForward(g: Float32Array, v: Float32Array, y: Float32Array, shifts: Int32Array, batch: number, length: number, dim: number): void;
  fusionBlendBackward(
    dy: Float32Array,
    g: Float32Array,
    v: Float32Array,
    dg: Float32Array,
    dv: Float32Array,
    shifts: Int32Array,
    batch: number,
    length: number,
    dim: number,
  ): void;
  /**
   * Global-norm clip and AdamW of every weight, in place; report gets [norm, applied].
   * Nothing changes when loss or norm is not finite (which sets halt[0]) or halt[0] is set.
   */
  adamw(
    p: Float32Array[],
    m: Float32Array[],
    v: Float32Array[],
    g: Float32Array[],
    decays: number[],
    halt: Float32Array,
    report: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    maxNorm: number,
    loss: number,
    step: number,
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
