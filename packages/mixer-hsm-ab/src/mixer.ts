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
  type Tensor1D,
  type Tensor2D,
  type Tensor3D,
  type Variable,
  variableFrom,
} from '@shiftmix/core';
import { hsmAbMix } from '@shiftmix/core/kernels';
import type { HsmAbConfig } from './config.js';
import { lowerHsmAb } from './onnx.js';

/**
 * The (a,b) mixer, Y = a * U + b * S(U) (S: core's per-group shift), optionally between W_in and
 * W_out. Weights: a, b [D] (init 1), w_in [D, D] (N(0, 0.02)), w_out [D, D] (output
 * projection). Decode state `ring` [B, max(shifts), D] holds the last inputs of the
 * shift: U, or V = U W_in with projections.
 */
export class HsmAbMixer implements Mixer {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly shifts: readonly number[];
  readonly projections: boolean;

  constructor(ctx: MixerContext, config: HsmAbConfig) {
    this.dim = ctx.dim;
    this.shifts = [...ctx.shifts];
    this.projections = config.projections;
    const d = ctx.dim;
    this.weights = { a: variableFrom(ctx.init.ones([d])), b: variableFrom(ctx.init.ones([d])) };
    if (this.projections) {
      this.weights.w_in = variableFrom(ctx.init.normal([d, d]));
      this.weights.w_out = variableFrom(ctx.init.outputProjection([d, d]));
    }
  }

  /** u: [B, T, D] -> [B, T, D]; the mix runs the fused kernel where the backend has one. */
  forward(u: Tensor3D): Tensor3D {
    const { a, b, w_in: wIn, w_out: wOut } = this.weights;
    return tf.tidy(() => {
      const v = this.projections ? (linear(u, wIn) as Tensor3D) : u; // [B, T, D]
      const y = hsmAbMix(v, a as Tensor1D, b as Tensor1D, this.shifts); // [B, T, D]
      return this.projections ? (linear(y, wOut) as Tensor3D) : y;
    });
  }

  initState(batch: number): MixerState {
    return { position: 0, tensors: { ring: createShiftRing(batch, this.dim, this.shifts) } };
  }

  /** u: [B, D] -> y: [B, D]; O(D) mixing plus the O(max(shifts) D) ring copy. */
  step(u: Tensor2D, state: MixerState): { y: Tensor2D; state: MixerState } {
    checkStepInput('hsm-ab', u, this.dim);
    const { a, b, w_in: wIn, w_out: wOut } = this.weights;
    const ring = state.tensors.ring as Tensor3D;
    const [y, next] = tf.tidy(() => {
      const v = this.projections ? (tf.matMul(u, wIn as Tensor2D) as Tensor2D) : u; // [B, D]
      const shifted = readShiftRing(ring, this.shifts); // [B, D]
      const mixed = tf.add(tf.mul(v, a), tf.mul(shifted, b)) as Tensor2D;
      const out = this.projections ? (tf.matMul(mixed, wOut as Tensor2D) as Tensor2D) : mixed;
      return [out, writeShiftRing(ring, v)] as [Tensor2D, Tensor3D];
    });
    return { y, state: { position: state.position + 1, tensors: { ring: next } } };
  }

  toOnnx(graph: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
    return lowerHsmAb(this, graph, input, lowering);
  }

  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }
}
