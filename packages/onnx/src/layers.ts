import { onnxLinear, type Variable } from '@shiftmix/core';
import type { GraphBuilder } from './graph-builder.js';

/** The eps of core's layerNorm (PyTorch's default). */
const LAYER_NORM_EPS = 1e-5;
const GELU_C = Math.sqrt(2 / Math.PI);

/** LayerNormalization over the last axis, as core's layerNorm. x: [..., D] -> [..., D]. */
export function lowerLayerNorm(g: GraphBuilder, x: string, name: string, gamma: Variable, beta: Variable): string {
  const scale = g.weight(`${name}.gamma`, gamma);
  const bias = g.weight(`${name}.beta`, beta);
  return g.add('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { kind: 'float', value: LAYER_NORM_EPS } })[0];
}

/**
 * GELU in GPT-2's tanh form, as core's gelu: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 * Opset 20 has Gelu with approximate="tanh"; the composite keeps one graph for every opset.
 */
export function lowerGelu(g: GraphBuilder, x: string): string {
  const [x2] = g.add('Mul', [x, x]);
  const [x3] = g.add('Mul', [x2, x]);
  const [cubic] = g.add('Mul', [x3, g.float([0.044715], [])]);
  const [sum] = g.add('Add', [x, cubic]);
  const [inner] = g.add('Mul', [sum, g.float([GELU_C], [])]);
  const [th] = g.add('Tanh', [inner]);
  const [onePlus] = g.add('Add', [th, g.float([1], [])]);
  const [half] = g.add('Mul', [x, g.float([0.5], [])]);
  return g.add('Mul', [half, onePlus])[0];
}

/** The block's FFN: Linear(D, h), GELU, Linear(h, D). x: [..., D] -> [..., D]. */
export function lowerFfn(g: GraphBuilder, x: string, prefix: string, ffn: { w1: Variable; b1: Variable; w2: Variable; b2: Variable }): string {
  const w1 = g.weight(`${prefix}.w1`, ffn.w1);
  const b1 = g.weight(`${prefix}.b1`, ffn.b1);
  const w2 = g.weight(`${prefix}.w2`, ffn.w2);
  const b2 = g.weight(`${prefix}.b2`, ffn.b2);
  const hidden = lowerGelu(g, onnxLinear(g, x, w1, b1)); // [..., h]
  return onnxLinear(g, hidden, w2, b2);
}
