import { meanLastAxis, rowsFit } from '../layers/norm.js';
import { tf, type Tensor } from '../tf.js';
import { defineKernel, type FusedKernel, type KernelInputs } from './kernel.js';
import { gradPairs, normal, type Compared, type ParityCheck } from './parity.js';

// Layer norm over the last axis, as in PyTorch (biased variance), alone or after the
// residual add that precedes it in every block; both share one backward kernel.

type EpsAttrs = { eps: number };

/** Composite layer norm over the last axis. x: [..., D], gamma, beta: [D]. */
export function layerNormReference(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const centered = tf.sub(x, meanLastAxis(x)); // [..., D]
  const variance = meanLastAxis(tf.square(centered)); // [..., 1]
  return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/** Composite of addLayerNorm: tf.add then layerNormReference. */
export function addLayerNormReference(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): [Tensor, Tensor] {
  const sum = tf.add(x, h);
  return [sum, layerNormReference(sum, gamma, beta, eps)];
}

/** Rows with their own offset and spread, so mean and variance both matter. */
function rowsOf(shape: number[], seed: number): Tensor {
  const rows = shape.slice(0, -1);
  return tf.add(tf.mul(normal(shape, seed), tf.add(tf.abs(normal([...rows, 1], seed + 1)), 0.5)), normal([...rows, 1], seed + 2));
}

// D = 1, 3, 5: scalar paths, the others vec4; row counts off a 16-row chunk; rows of 1000
// and 3000 take several passes of a workgroup.
const LAYER_NORM_SHAPES = [
  [2, 7, 1],
  [3, 5, 3],
  [19, 5],
  [2, 9, 384],
  [3, 1000],
  [2, 3000],
  [2, 16, 12],
];
const ADD_LAYER_NORM_SHAPES = [
  [2, 7, 1],
  [3, 5, 5],
  [2, 9, 384],
  [17, 100],
  [17, 1000],
];

export const LAYER_NORM: FusedKernel<EpsAttrs> = defineKernel<EpsAttrs>({
  name: 'ShiftmixLayerNorm',
  summary: 'layer norm over the last axis (biased variance, as PyTorch)',
  inputs: { x: 'float32 [..., D]', gamma: 'float32 [D]', beta: 'float32 [D]' },
  attrs: { eps: 'added to the variance (1e-5)' },
  outputs: { y: 'LN(x) [..., D]' },
  shapes: ({ x }) => [x],
  reference: ({ x, gamma, beta }, { eps }) => layerNormReference(x, gamma, beta, eps),
  fits: ({ x, gamma, beta }) => rowsFit(x, gamma, beta),
  backward: {
    name: 'ShiftmixLayerNormGrad',
    summary: "layer norm's dx (plus dres, the residual sum's own gradient, when given), dgamma and dbeta",
    inputs: { dy: 'float32 [..., D]', x: 'float32 [..., D]', gamma: 'float32 [D]', dres: 'optional, float32 [..., D]' },
    outputs: { dx: '[..., D]', dgamma: '[D]', dbeta: '[D]' },
    shapes: ({ x, gamma }) => [x, gamma, gamma],
  },
  gradient: {
    inputs: ['x', 'gamma'],
    backward: ([dy], { inputs: [x, gamma] }, attrs, backward) => {
      const [dx, dgamma, dbeta] = backward.call<Tensor[]>({ dy, x, gamma }, attrs);
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  },
  checks: () =>
    LAYER_NORM_SHAPES.map((shape): ParityCheck => ({
      name: `layerNorm ${JSON.stringify(shape)}`,
      kernels: [LAYER_NORM.name, LAYER_NORM_GRAD.name],
      run() {
        const dim = shape[shape.length - 1];
        const inputs = [rowsOf(shape, 1), tf.add(normal([dim], 4), 1), normal([dim], 5)];
        const [x, g, b] = inputs;
        return [
          { what: 'forward', got: layerNorm(x, g, b), want: layerNormReference(x, g, b), tol: 1e-5 },
          ...gradPairs(
            ['dx', 'dgamma', 'dbeta'],
            [1e-5, 1e-5, 1e-5],
            (x, g, b) => layerNorm(x, g, b),
            (x, g, b) => layerNormReference(x, g, b),
            inputs,
            normal(shape, 6),
          ),
        ];
      },
    })),
});

export const LAYER_NORM_GRAD: FusedKernel<EpsAttrs> = LAYER_NORM.backward!;

/** Without the fused add: the add, then layerNorm (which may still run fused). */
function addThenNorm({ x, h, gamma, beta }: KernelInputs, { eps }: EpsAttrs): Tensor[] {
  const sum = tf.add(x, h);
  return [sum, layerNorm(sum, gamma, beta, eps)];
}

export const ADD_LAYER_NORM: FusedKernel<EpsAttrs> = defineKernel<EpsAttrs>({
  name: 'ShiftmixAddLayerNorm',
  summary: 'the residual add and the layer norm after it',
  inputs: { x: 'float32 [..., D]', h: 'float32, the shape of x', gamma: 'float32 [D]', beta: 'float32 [D]' },
  attrs: { eps: 'added to the variance (1e-5)' },
  outputs: { sum: 'x + h', normed: 'LN(x + h)' },
  shapes: ({ x }) => [x, x],
  reference: ({ x, h, gamma, beta }, { eps }) => addLayerNormReference(x, h, gamma, beta, eps),
  composite: addThenNorm,
  fits: ({ x, h, gamma, beta }) => rowsFit(x, gamma, beta) && h.dtype === 'float32' && tf.util.arraysEqual(x.shape, h.shape),
  // The sum's gradient joins dx inside the backward kernel; x and h get the same gradient,
  // h as a clone so that accumulating into one never frees the other's.
  gradient: {
    inputs: ['gamma'],
    outputs: [true, false],
    backward: ([dsum, dnormed], { inputs: [gamma], outputs: [sum] }, attrs) => {
      const [dx, dgamma, dbeta] = LAYER_NORM_GRAD.call<Tensor[]>({ dy: dnormed, x: sum, gamma, dres: dsum }, attrs);
      return { x: () => dx, h: () => tf.clone(dx), gamma: () => dgamma, beta: () => dbeta };
    },
  },
  checks: () =>
    ADD_LAYER_NORM_SHAPES.map((shape): ParityCheck => ({
      name: `addLayerNorm ${JSON.stringify(shape)}`,
      kernels: [ADD_LAYER_NORM.name, LAYER_NORM_GRAD.name],
      run() {
        const dim = shape[shape.length - 1];
        const inputs = [rowsOf(shape, 12), normal(shape, 13), tf.add(normal([dim], 14), 1), normal([dim], 15)];
        const reference = (x: Tensor, h: Tensor, g: Tensor, b: Tensor) => {
          const [sum, normed] = addLayerNormReference(x, h, g, b);
          return { sum, normed };
        };
        const [w1, w2] = [normal(shape, 16), normal(shape, 17)];
        // Both outputs feed the loss, so the sum's gradient must reach dx and dh too.
        const loss = (f: typeof addLayerNorm) => (x: Tensor, h: Tensor, g: Tensor, b: Tensor) => {
          const { sum, normed } = f(x, h, g, b);
          return tf.add(tf.sum(tf.mul(sum, w1)), tf.sum(tf.mul(normed, w2)));
        };
        const [x, h, g, b] = inputs;
        const got = addLayerNorm(x, h, g, b);
        const want = reference(x, h, g, b);
        const gotGrads = tf.grads(loss(addLayerNorm))(inputs);
        const wantGrads = tf.grads(loss(reference))(inputs);
        return [
          { what: 'sum', got: got.sum, want: want.sum, tol: 1e-6 },
          { what: 'normed', got: got.normed, want: want.normed, tol: 1e-5 },
          ...['dx', 'dh', 'dgamma', 'dbeta'].map((what, i): Compared => ({ what, got: gotGrads[i], want: wantGrads[i], tol: 1e-5 })),
        ];
      },
    })),
});

/**
 * Layer norm over the last axis, as in PyTorch (biased variance, eps 1e-5). x: [..., D],
 * gamma, beta: [D]. One kernel where the backend implements LAYER_NORM, else the composite.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return LAYER_NORM.run({ x, gamma, beta }, { eps });
}

/**
 * The residual add and the layer norm that follows it: sum = x + h, normed = LN(sum).
 * x, h: [..., D], gamma, beta: [D]. One kernel writes both where the backend implements
 * ADD_LAYER_NORM; elsewhere tf.add then layerNorm, the same values.
 */
export function addLayerNorm(x: Tensor, h: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): { sum: Tensor; normed: Tensor } {
  const [sum, normed] = ADD_LAYER_NORM.run<Tensor[]>({ x, h, gamma, beta }, { eps });
  return { sum, normed };
}
