import { runFused } from './kernels/dispatch.js';
import { dropoutHash, dropoutScale, dropoutThreshold } from './kernels/dropout-hash.js';
import { ADD_LAYER_NORM_KERNEL, BIAS_GELU_KERNEL, DROPOUT_KERNEL, LAYER_NORM_KERNEL } from './kernels/names.js';
import { tf, type Tensor, type Tensor3D, type Variable } from './tf.js';

export { ADD_LAYER_NORM_KERNEL, BIAS_GELU_KERNEL, DROPOUT_KERNEL, LAYER_NORM_KERNEL };

/** A variable holding `initial`; the initial tensor is freed (tf.variable keeps its own copy). */
export function variableFrom(initial: Tensor): Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/** x: [..., in] @ w: [in, out] (+ b: [out]) -> [..., out], for any rank of x. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const shape = x.shape as number[];
  const inDim = shape[shape.length - 1];
  const outDim = (w.shape as number[])[1];
  const flat = x.reshape([-1, inDim]) as tf.Tensor2D;
  let y: Tensor = tf.matMul(flat, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return y.reshape([...shape.slice(0, -1), outDim]);
}

type GradFn = (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[];

/** tf.customGrad with the loose typing its callers here need. */
function withGrad(f: (...inputs: Tensor[]) => { value: Tensor; gradFunc: GradFn }): (...inputs: Tensor[]) => Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: Tensor[]) => Tensor;
}

/**
 * Mean over the last axis, kept: x [..., D] -> [..., 1]. Same value as tf.mean, but the
 * gradient is dy / D broadcast by the backend (Tile); tfjs-core's Mean gradient multiplies
 * by `ones(x.shape)`, an array built on the host and uploaded on every backward pass.
 */
export function meanLastAxis(x: Tensor): Tensor {
  const shape = x.shape as number[];
  const n = shape[shape.length - 1];
  return withGrad((input) => ({
    value: tf.mean(input, -1, true),
    gradFunc: (dy) => tf.broadcastTo(tf.div(dy, n), shape),
  }))(x);
}

/** Sum of every element, a scalar; like meanLastAxis, its gradient is a device-side broadcast of dy. */
export function sumAll(x: Tensor): tf.Scalar {
  const shape = x.shape as number[];
  return withGrad((input) => ({
    value: tf.sum(input),
    gradFunc: (dy) => tf.broadcastTo(dy.reshape(shape.map(() => 1)), shape),
  }))(x) as tf.Scalar;
}

/** Whether x (float32) comes with per-channel [D] vectors: what the row kernels take. */
function rowsFit(x: Tensor, ...vectors: Tensor[]): boolean {
  const dim = (x.shape as number[])[x.rank - 1];
  return x.rank >= 1 && x.dtype === 'float32' && vectors.every((v) => v.rank === 1 && v.shape[0] === dim && v.dtype === 'float32');
}

/** Composite layer norm over the last axis, never dispatched to a fused kernel. */
export function layerNormReference(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const centered = tf.sub(x, meanLastAxis(x)); // [..., D]
  const variance = meanLastAxis(tf.square(centered)); // [..., 1]
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/**
 * Layer norm over the last axis, as in PyTorch (biased variance, eps 1e-5). x: [..., D],
 * gamma, beta: [D]. One fused kernel when the backend registers LAYER_NORM_KERNEL,
 * else the composite (layerNormReference).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return runFused(LAYER_NORM_KERNEL, { x, gamma, beta }, { eps }, () => layerNormReference(x, gamma, beta, eps), rowsFit(x, gamma, beta));
}

/**
 * The residual add and the layer norm that follows it: sum = x + h, normed = LN(sum).
 * x, h: [..., D], gamma, beta: [D]. One kernel writes both when the backend registers
 * ADD_LAYER_NORM_KERNEL; elsewhere tf.add then layerNorm, the same values as before.
 */
export function addLayerNorm(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): { sum: Tensor; normed: Tensor } {
  const fits = rowsFit(x, gamma, beta) && h.dtype === 'float32' && tf.util.arraysEqual(x.shape, h.shape);
  // Without the fused kernel: the add, then layerNorm (which may still run fused).
  const unfused = (): Tensor[] => {
    const sum = tf.add(x, h);
    return [sum, layerNorm(sum, gamma, beta, eps)];
  };
  const [sum, normed] = runFused(ADD_LAYER_NORM_KERNEL, { x, h, gamma, beta }, { eps }, unfused, fits);
  return { sum, normed };
}

/** Composite of addLayerNorm, never dispatched to a fused kernel: tf.add then layerNormReference. */
export function addLayerNormReference(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): [Tensor, Tensor] {
  const sum = tf.add(x, h);
  return [sum, layerNormReference(sum, gamma, beta, eps)];
}

// Backends on which a one-hot matmul beats gather's UnsortedSegmentSum gradient.
const ONE_HOT_GRAD_BACKENDS = new Set(['webgpu', 'webgl']);
/** Largest vocabulary for which the one-hot gradient is used (it builds an [N, V] matrix). */
export const ONE_HOT_GRAD_MAX_VOCAB = 1024;

/**
 * table[tokens] (gather on axis 0) whose gradient is oneHot(tokens, V)^T @ dy, one matmul.
 * table: [V, D], tokens: int32 [...] -> [..., D].
 */
export function embedOneHotGrad(table: Tensor, tokens: Tensor): Tensor {
  const [vocab, dim] = table.shape as number[];
  const count = tokens.size;
  return withGrad((t, ids) => ({
    value: tf.gather(t, ids),
    gradFunc: (dy) => {
      const hot = tf.oneHot(ids.reshape([count]) as tf.Tensor1D, vocab, 1, 0, 'float32') as tf.Tensor2D; // [N, V]
      const dTable = tf.matMul(hot, dy.reshape([count, dim]) as tf.Tensor2D, true, false); // [V, D]
      return [dTable, tf.zerosLike(ids)];
    },
  }))(table, tokens);
}

/**
 * Token embedding table[tokens]: on GPU backends with a small vocabulary the gradient is
 * a one-hot matmul (embedOneHotGrad), elsewhere gather's own (UnsortedSegmentSum).
 */
export function embed(table: Tensor, tokens: Tensor): Tensor {
  const oneHot = ONE_HOT_GRAD_BACKENDS.has(tf.getBackend()) && table.shape[0] <= ONE_HOT_GRAD_MAX_VOCAB;
  return oneHot ? embedOneHotGrad(table, tokens) : tf.gather(table, tokens);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh form (GPT-2's); the ONNX export lowers the same formula. */
export function gelu(x: Tensor): Tensor {
  // x * x * x rather than tf.pow: pow and its gradient (which takes logs) are slow on wasm.
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Composite gelu(x + b), never dispatched to a fused kernel. */
export function biasGeluReference(x: Tensor, b: Tensor): Tensor {
  return gelu(tf.add(x, b));
}

/**
 * gelu(x + b), x: [..., H], b: [H]: one elementwise kernel when the backend registers
 * BIAS_GELU_KERNEL, else tf.add then gelu (the values of linear(x, w, b) then gelu).
 */
export function biasGelu(x: Tensor, b: Tensor): Tensor {
  return runFused(BIAS_GELU_KERNEL, { x, b }, {}, () => biasGeluReference(x, b), rowsFit(x, b));
}

/**
 * Inverted dropout with an explicit seed: the same seed gives the same mask. When the
 * backend registers DROPOUT_KERNEL (webgpu, and wasm with @shiftmix/native) the mask is a
 * hash of (seed, index), the same on both (dropoutReference); elsewhere it is tf.dropout,
 * whose mask is drawn on the host and differs for the same seed.
 */
export function dropout<T extends Tensor>(x: T, rate: number, training: boolean, seed: number): T {
  if (!training || rate <= 0) return x;
  return runFused(DROPOUT_KERNEL, { x }, { rate, seed }, () => tf.dropout(x, rate, undefined, seed) as T, rate < 1 && x.dtype === 'float32');
}

/** DROPOUT_KERNEL's values from tfjs ops: the hash mask (dropoutHash) made on the host. */
export function dropoutReference(x: Tensor, rate: number, seed: number): Tensor {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  const mask = Float32Array.from({ length: x.size }, (_, i) => (dropoutHash(seed, i) >= threshold ? scale : 0));
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape)));
}

/** (S_s x)[:, t] = x[:, t - s] for t >= s, else 0. x: [B, T, C]. */
export function shiftTime(x: Tensor3D, shift: number): Tensor3D {
  const [b, t, c] = x.shape;
  if (shift === 0) return x;
  if (shift >= t) return tf.zeros([b, t, c]);
  return tf.pad(x, [[0, 0], [shift, 0], [0, 0]]).slice([0, 0, 0], [b, t, c]) as Tensor3D;
}
