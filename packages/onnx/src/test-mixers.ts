import {
  onnxGroupShift,
  onnxLinear,
  onnxReadShiftRing,
  onnxWriteShiftRing,
  readShiftRing,
  tf,
  writeShiftRing,
  type MixerContext,
  type MixerSpec,
  type MixerState,
  type Tensor2D,
  type Tensor3D,
} from '@shiftmix/core';
import { groupShift } from '@shiftmix/core/kernels';

/**
 * Mixers for the exporter's own tests, independent of the mixer packages:
 * `onnx-test-shift` (shift-based, a * u + b * S(u), ring-buffer state), `onnx-test-sum`
 * (not shift-based: a causal running sum of u W, its state the sum so far) and
 * `onnx-test-opaque`, which has no ONNX lowering.
 */
export const testShift: MixerSpec<Record<string, never>> = {
  specificationVersion: 1,
  name: 'onnx-test-shift',
  description: 'test mixer: a * u + b * S(u)',
  shiftBased: true,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx) => 2 * ctx.dim,
  create(ctx: MixerContext) {
    const a = tf.variable(tf.add(ctx.init.ones([ctx.dim]), ctx.init.normal([ctx.dim], 0.3)));
    const b = tf.variable(tf.add(ctx.init.ones([ctx.dim]), ctx.init.normal([ctx.dim], 0.3)));
    const shifts = [...ctx.shifts];
    const ringSize = Math.max(...shifts);
    return {
      weights: { a, b },
      forward: (u: Tensor3D) => tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(groupShift(u, shifts), b)) as Tensor3D),
      initState: (batch: number): MixerState => ({ position: 0, tensors: { ring: tf.zeros([batch, ringSize, ctx.dim]) } }),
      step(u: Tensor2D, state: MixerState) {
        const ring = state.tensors.ring as Tensor3D;
        const y = tf.tidy(() => tf.add(tf.mul(u, a), tf.mul(readShiftRing(ring, shifts), b)) as Tensor2D);
        return { y, state: { position: state.position + 1, tensors: { ring: writeShiftRing(ring, u) } } };
      },
      toOnnx(graph, input, lowering) {
        const wa = graph.weight('a', a);
        const wb = graph.weight('b', b);
        const shifted =
          lowering.mode === 'full' ? onnxGroupShift(graph, input, shifts, ctx.dim) : onnxReadShiftRing(graph, lowering.state.ring, shifts, ctx.dim);
        const [au] = graph.add('Mul', [input, wa]);
        const [bs] = graph.add('Mul', [shifted, wb]);
        const [output] = graph.add('Add', [au, bs]);
        if (lowering.mode === 'full') return { output };
        return { output, state: { ring: onnxWriteShiftRing(graph, lowering.state.ring, input, ringSize) } };
      },
      dispose() {
        a.dispose();
        b.dispose();
      },
    };
  },
};

export const testSum: MixerSpec<Record<string, never>> = {
  specificationVersion: 1,
  name: 'onnx-test-sum',
  description: 'test mixer: causal running sum of u W',
  shiftBased: false,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx) => ctx.dim * ctx.dim,
  create(ctx: MixerContext) {
    const w = tf.variable(ctx.init.normal([ctx.dim, ctx.dim], 0.2));
    return {
      weights: { w },
      forward: (u: Tensor3D) => tf.tidy(() => tf.cumsum(tf.matMul(u.reshape([-1, ctx.dim]), w).reshape(u.shape), 1) as Tensor3D),
      initState: (batch: number): MixerState => ({ position: 0, tensors: { sum: tf.zeros([batch, ctx.dim]) } }),
      step(u: Tensor2D, state: MixerState) {
        const sum = tf.tidy(() => tf.add(state.tensors.sum, tf.matMul(u, w)) as Tensor2D);
        return { y: sum.clone(), state: { position: state.position + 1, tensors: { sum } } };
      },
      toOnnx(graph, input, lowering) {
        const projected = onnxLinear(graph, input, graph.weight('w', w)); // [B, T, D]
        if (lowering.mode === 'full') return { output: graph.add('CumSum', [projected, graph.int64([1], [])])[0] };
        const [sum] = graph.add('Add', [lowering.state.sum, graph.add('Squeeze', [projected, graph.int64([1])])[0]]); // [B, D]
        return { output: graph.add('Unsqueeze', [sum, graph.int64([1])])[0], state: { sum } };
      },
      dispose: () => w.dispose(),
    };
  },
};

export const testOpaque: MixerSpec<Record<string, never>> = {
  ...testShift,
  name: 'onnx-test-opaque',
  create(ctx, config) {
    const { toOnnx: _dropped, ...mixer } = testShift.create(ctx, config);
    return mixer;
  },
};
