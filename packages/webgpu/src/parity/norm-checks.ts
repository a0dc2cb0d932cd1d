import { addLayerNorm, biasGelu, layerNorm, tf, type Tensor } from '@shiftmix/core';
import {
  ADD_LAYER_NORM_KERNEL,
  BIAS_GELU_GRAD_KERNEL,
  BIAS_GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  biasGeluReference,
  layerNormReference,
} from '@shiftmix/core/kernels';
import { biasGeluTuning } from '../bias-gelu.js';
import { layerNormTuning } from '../layer-norm-grad.js';
import { gradPairs, normal, type Compared, type ParityCheck } from './compare.js';

/** Rows with their own offset and spread, so mean and variance both matter. */
function rowsOf(shape: number[], seed: number): Tensor {
  const rows = shape.slice(0, -1);
  return tf.add(tf.mul(normal(shape, seed), tf.add(tf.abs(normal([...rows, 1], seed + 1)), 0.5)), normal([...rows, 1], seed + 2));
}

const lnChunk = layerNormTuning.rowsPerWorkgroup;
const geluChunk = biasGeluTuning.rowsPerThread * biasGeluTuning.lanes;

// D = 1, 3, 5: scalar paths; the others vec4; row counts off the backward's chunk.
// Rows of 1000 and 3000 take several passes of a workgroup over the row.
const layerNormShapes = [
  [2, 7, 1],
  [3, 5, 3],
  [lnChunk + 3, 5],
  [2, 9, 384],
  [3, 1000],
  [2, 3000],
  [2, lnChunk, 12],
];
const addLayerNormShapes = [
  [2, 7, 1],
  [3, 5, 5],
  [2, 9, 384],
  [lnChunk + 1, 100],
  [lnChunk + 1, 1000],
];
// 4 * 32 + 12 channels spill past one workgroup's columns.
const biasGeluShapes = [
  [2, 7, 1],
  [3, 5, 3],
  [geluChunk + 9, 5],
  [2, 9, 384],
  [3, 1000],
  [2, geluChunk, 4 * biasGeluTuning.columnsPerWorkgroup + 12],
];

const layerNormCheck = (shape: number[]): ParityCheck => ({
  name: `layerNorm ${JSON.stringify(shape)}`,
  kernels: [LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL],
  run() {
    const dim = shape[shape.length - 1];
    const inputs = [rowsOf(shape, 1), tf.add(normal([dim], 4), 1), normal([dim], 5)];
    const fused = (x: Tensor, g: Tensor, b: Tensor) => layerNorm(x, g, b);
    const reference = (x: Tensor, g: Tensor, b: Tensor) => layerNormReference(x, g, b);
    return [
      { what: 'forward', got: fused(inputs[0], inputs[1], inputs[2]), want: reference(inputs[0], inputs[1], inputs[2]), tol: 1e-5 },
      ...gradPairs(['dx', 'dgamma', 'dbeta'], [1e-5, 1e-5, 1e-5], fused, reference, inputs, normal(shape, 6)),
    ];
  },
});

const addLayerNormCheck = (shape: number[]): ParityCheck => ({
  name: `addLayerNorm ${JSON.stringify(shape)}`,
  kernels: [ADD_LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL],
  run() {
    const dim = shape[shape.length - 1];
    const inputs = [rowsOf(shape, 12), normal(shape, 13), tf.add(normal([dim], 14), 1), normal([dim], 15)];
    const composite = (x: Tensor, h: Tensor, g: Tensor, b: Tensor) => {
      const sum = tf.add(x, h);
      return { sum, normed: layerNormReference(sum, g, b) };
    };
    const [w1, w2] = [normal(shape, 16), normal(shape, 17)];
    // Both outputs feed the loss, so the sum's gradient must reach dx and dh too.
    const loss = (f: typeof addLayerNorm) => (x: Tensor, h: Tensor, g: Tensor, b: Tensor) => {
      const { sum, normed } = f(x, h, g, b);
      return tf.add(tf.sum(tf.mul(sum, w1)), tf.sum(tf.mul(normed, w2)));
    };
    const got = addLayerNorm(inputs[0], inputs[1], inputs[2], inputs[3]);
    const want = composite(inputs[0], inputs[1], inputs[2], inputs[3]);
    const gotGrads = tf.grads(loss(addLayerNorm))(inputs);
    const wantGrads = tf.grads(loss(composite))(inputs);
    return [
      { what: 'sum', got: got.sum, want: want.sum, tol: 1e-6 },
      { what: 'normed', got: got.normed, want: want.normed, tol: 1e-5 },
      ...['dx', 'dh', 'dgamma', 'dbeta'].map((what, i): Compared => ({ what, got: gotGrads[i], want: wantGrads[i], tol: 1e-5 })),
    ];
  },
});

const biasGeluCheck = (shape: number[]): ParityCheck => ({
  name: `biasGelu ${JSON.stringify(shape)}`,
  kernels: [BIAS_GELU_KERNEL, BIAS_GELU_GRAD_KERNEL],
  run() {
    const dim = shape[shape.length - 1];
    const [x, b] = [tf.mul(normal(shape, 1), 2), normal([dim], 2)];
    const grads = gradPairs(['dx', 'db'], [1e-5, 1e-5], biasGelu, biasGeluReference, [x, b], normal(shape, 3));
    // b is broadcast over the rows, so db is dx summed over them, whatever the reference says.
    const columnSum: Compared = { what: 'db = column sum of dx', got: grads[1].got, want: tf.sum(grads[0].got.reshape([-1, dim]), 0), tol: 1e-5 };
    return [{ what: 'forward', got: biasGelu(x, b), want: biasGeluReference(x, b), tol: 1e-5 }, ...grads, columnSum];
  },
});

export const normChecks: ParityCheck[] = [
  ...layerNormShapes.map(layerNormCheck),
  ...addLayerNormShapes.map(addLayerNormCheck),
  ...biasGeluShapes.map(biasGeluCheck),
];
