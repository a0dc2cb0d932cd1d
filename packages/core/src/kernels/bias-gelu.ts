import { rowsFit } from '../layers/norm.js';
import { gelu } from '../layers/pointwise.js';
import { tf, type Tensor } from '../tf.js';
import { defineKernel, type FusedKernel } from './kernel.js';
import { gradPairs, normal, type Compared, type ParityCheck } from './parity.js';

// The FFN's bias add and GELU (tanh form) in one elementwise pass, forward and backward.

/** Composite gelu(x + b). x: [..., H], b: [H]. */
export function biasGeluReference(x: Tensor, b: Tensor): Tensor {
  return gelu(tf.add(x, b));
}

// H = 1, 3, 5: scalar paths, the others vec4; rows off a 64-row chunk; 4 * 32 + 12 channels
// spill past one workgroup's columns.
const SHAPES = [
  [2, 7, 1],
  [3, 5, 3],
  [73, 5],
  [2, 9, 384],
  [3, 1000],
  [2, 64, 140],
];

export const BIAS_GELU: FusedKernel<Record<string, never>> = defineKernel<Record<string, never>>({
  name: 'ShiftmixBiasGelu',
  summary: 'GELU (tanh form) of x plus a bias per column',
  inputs: { x: 'float32 [..., H]', b: 'float32 [H]' },
  attrs: {},
  outputs: { y: 'gelu(x + b)' },
  shapes: ({ x }) => [x],
  reference: ({ x, b }) => biasGeluReference(x, b),
  fits: ({ x, b }) => rowsFit(x, b),
  backward: {
    name: 'ShiftmixBiasGeluGrad',
    summary: "dx = dy * gelu'(x + b), db = the column sums of dx",
    inputs: { dy: 'float32 [..., H]', x: 'float32 [..., H]', b: 'float32 [H]' },
    outputs: { dx: '[..., H]', db: '[H]' },
    shapes: ({ x, b }) => [x, b],
  },
  gradient: {
    inputs: ['x', 'b'],
    backward: ([dy], { inputs: [x, b] }, _attrs, backward) => {
      const [dx, db] = backward.call<Tensor[]>({ dy, x, b }, {});
      return { x: () => dx, b: () => db };
    },
  },
  checks: () =>
    SHAPES.map((shape): ParityCheck => ({
      name: `biasGelu ${JSON.stringify(shape)}`,
      kernels: [BIAS_GELU.name, BIAS_GELU_GRAD.name],
      run() {
        const dim = shape[shape.length - 1];
        const [x, b] = [tf.mul(normal(shape, 1), 2), normal([dim], 2)];
        const grads = gradPairs(['dx', 'db'], [1e-5, 1e-5], biasGelu, biasGeluReference, [x, b], normal(shape, 3));
        // b is broadcast over the rows, so db is dx summed over them, whatever the reference says.
        const columnSum: Compared = { what: 'db = column sum of dx', got: grads[1].got, want: tf.sum(grads[0].got.reshape([-1, dim]), 0), tol: 1e-5 };
        return [{ what: 'forward', got: biasGelu(x, b), want: biasGeluReference(x, b), tol: 1e-5 }, ...grads, columnSum];
      },
    })),
});

export const BIAS_GELU_GRAD: FusedKernel<Record<string, never>> = BIAS_GELU.backward!;

/**
 * gelu(x + b), x: [..., H], b: [H]: one elementwise kernel where the backend implements
 * BIAS_GELU, else tf.add then gelu (the values of linear(x, w, b) then gelu).
 */
export function biasGelu(x: Tensor, b: Tensor): Tensor {
  return BIAS_GELU.run({ x, b }, {});
}
