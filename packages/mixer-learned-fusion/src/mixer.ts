import {
  checkStepInput,
  createShiftRing,
  linear,
  readShiftRing,
  tf,
  writeShiftRing,
  type Mixer,
  type MixerContext,
  type MixerState,
  type OnnxGraph,
  type OnnxLowered,
  type OnnxLowering,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type Variable,
  variableFrom,
} from '@shiftmix/core';
import { fusionBlend, groupShift } from '@shiftmix/core/kernels';
import type { LearnedFusionConfig, LearnedFusionMode } from './config.js';
import { lowerLearnedFusion } from './onnx.js';

/**
 * The learned-fusion mixer (its README has the formulas). Weights, gate mode: w_v [D, D], w_g [2D, D]
 * (both N(0, 0.02)), c [D] (zeros), w_o [D, D] (output projection); linear mode: w_f
 * [2D, D] (output projection: it writes into the residual stream).
 *
 * Decode state: `ring_u` [B, m, D], the last m = max(shifts) inputs U, in both modes, and
 * in gate mode also `ring_v`, the last m values V. Both are needed: the gate reads S(U)
 * and the blend reads S(V), and since the channel groups of S differ before and after
 * W_v, S(V) is not S(U) W_v; recomputing it from `ring_u` would cost a D x D product per
 * step, so the ring of V trades m D memory for it.
 */
export class LearnedFusionMixer implements Mixer {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly shifts: readonly number[];
  readonly mode: LearnedFusionMode;

  constructor(ctx: MixerContext, config: LearnedFusionConfig) {
    const d = ctx.dim;
    this.dim = d;
    this.shifts = [...ctx.shifts];
    this.mode = config.mode;
    this.weights =
      this.mode === 'gate'
        ? {
            w_v: variableFrom(ctx.init.normal([d, d])),
            w_g: variableFrom(ctx.init.normal([2 * d, d])),
            c: variableFrom(ctx.init.zeros([d])),
            w_o: variableFrom(ctx.init.outputProjection([d, d])),
          }
        : { w_f: variableFrom(ctx.init.outputProjection([2 * d, d])) };
  }

  /** u: [B, T, D] -> [B, T, D]; the blend runs the fused kernel where the backend has one. */
  forward(u: Tensor3D): Tensor3D {
    return tf.tidy(() => {
      const joined = tf.concat([u, groupShift(u, this.shifts)], 2); // [B, T, 2D]
      if (this.mode === 'linear') return linear(joined, this.weights.w_f) as Tensor3D;
      const { w_v: wV, w_g: wG, c, w_o: wO } = this.weights;
      const v = linear(u, wV) as Tensor3D; // [B, T, D]
      const gate = tf.sigmoid(linear(joined, wG, c)) as Tensor3D; // [B, T, D]
      return linear(fusionBlend(gate, v, this.shifts), wO) as Tensor3D;
    });
  }

  initState(batch: number): MixerState {
    const tensors: Record<string, Tensor> = { ring_u: createShiftRing(batch, this.dim, this.shifts) };
    if (this.mode === 'gate') tensors.ring_v = createShiftRing(batch, this.dim, this.shifts);
    return { position: 0, tensors };
  }

  /** u: [B, D] -> y: [B, D]; O(D^2) projections plus the O(max(shifts) D) ring copies. */
  step(u: Tensor2D, state: MixerState): { y: Tensor2D; state: MixerState } {
    checkStepInput('learned-fusion', u, this.dim);
    const ringU = state.tensors.ring_u as Tensor3D;
    const result = tf.tidy(() => {
      const joined = tf.concat([u, readShiftRing(ringU, this.shifts)], 1) as Tensor2D; // [B, 2D]
      const tensors: Record<string, Tensor> = { ring_u: writeShiftRing(ringU, u) };
      if (this.mode === 'linear') return { y: tf.matMul(joined, this.weights.w_f as Tensor2D), tensors };
      const { w_v: wV, w_g: wG, c, w_o: wO } = this.weights;
      const ringV = state.tensors.ring_v as Tensor3D;
      const v = tf.matMul(u, wV as Tensor2D) as Tensor2D; // [B, D]
      const shiftedV = readShiftRing(ringV, this.shifts); // [B, D]
      const gate = tf.sigmoid(tf.add(tf.matMul(joined, wG as Tensor2D), c));
      const blended = tf.add(shiftedV, tf.mul(gate, tf.sub(v, shiftedV))); // G V + (1 - G) S(V)
      tensors.ring_v = writeShiftRing(ringV, v);
      return { y: tf.matMul(blended as Tensor2D, wO as Tensor2D), tensors };
    });
    return { y: result.y as Tensor2D, state: { position: state.position + 1, tensors: result.tensors } };
  }

  toOnnx(graph: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
    return lowerLearnedFusion(this, graph, input, lowering);
  }

  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }
}
