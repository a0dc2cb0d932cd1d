import type { OnnxGraph, OnnxLowering, OnnxLowered } from './onnx-graph.js';
import type { Rng } from './rng.js';
import type { Tensor, Tensor2D, Tensor3D, Variable } from './tf.js';

/** The version of the mixer contract this core implements. */
export const MIXER_SPECIFICATION_VERSION = 1 as const;

/** Creates a layer's initial weights: GPT-2 style, deterministic for a given model seed. */
export interface WeightInit {
  /** N(0, std), std defaulting to 0.02. */
  normal(shape: number[], std?: number): Tensor;
  /** N(0, 0.02 / sqrt(2 L)) for projections that write into the residual stream. */
  outputProjection(shape: number[]): Tensor;
  zeros(shape: number[]): Tensor;
  ones(shape: number[]): Tensor;
}

/** What the stack tells a mixer about the place it is created in. */
export interface MixerContext {
  /** Model width D. */
  dim: number;
  /** Number of attention heads of the model (mixers without heads ignore it). */
  heads: number;
  /** The model's context length T_max. */
  contextLength: number;
  /** Index of this block in the stack, 0-based. */
  layerIndex: number;
  /** Number of blocks L. */
  numLayers: number;
  /**
   * Shifts assigned by the core's schedule (schedule.ts), one per channel group; the D channels
   * are split into `shifts.length` contiguous groups whose sizes differ by at most one
   * (see `channelGroups`). Empty for mixers that are not shift-based.
   */
  shifts: number[];
  /** Dropout rate for dropout inside the mixer (attention dropout). */
  dropout: number;
  init: WeightInit;
  /** Draws seeds for dropout masks; shared by the model so a checkpoint can store it. */
  rng: Rng;
}

export interface ForwardOptions {
  training: boolean;
}

/**
 * Incremental decoding state. `position` is the index of the next token; tensors are
 * named so they can be exported as ONNX inputs and outputs. A `step` returns a new state
 * and never disposes the one it was given; the caller disposes the old tensors.
 */
export interface MixerState {
  position: number;
  tensors: Record<string, Tensor>;
}

export interface Mixer {
  /** Trainable weights by name, relative to the mixer (the stack adds a prefix). */
  readonly weights: Record<string, Variable>;
  /** u: [B, T, D] layer-normed input -> y: [B, T, D]. Must be causal. */
  forward(u: Tensor3D, opts: ForwardOptions): Tensor3D;
  initState(batch: number): MixerState;
  /** u: [B, D], the input at `state.position` -> y: [B, D] and the next state. */
  step(u: Tensor2D, state: MixerState): { y: Tensor2D; state: MixerState };
  /** Lowers the mixer into an ONNX graph (full sequence or one decode step). */
  toOnnx?(graph: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered;
  dispose(): void;
}

export interface MixerSpec<C = Record<string, unknown>> {
  specificationVersion: typeof MIXER_SPECIFICATION_VERSION;
  /** Registry key, kebab-case. */
  name: string;
  description: string;
  /** When true the core assigns this layer shifts from the model's schedule. */
  shiftBased: boolean;
  /**
   * The fused kernels its forward may run (names from `@shiftmix/core/kernels`, e.g.
   * SHIFTMIX_ATTENTION_PACKED_KERNEL). Optional; a backend reads it from a built model's
   * blocks, e.g. to tune those kernels for the model's shape.
   */
  kernels?: readonly string[];
  defaults: C;
  /** Returns a complete config (defaults filled in) or throws a ShiftmixError. */
  validate(config: unknown, ctx: MixerContext): C;
  paramCount(ctx: MixerContext, config: C): number;
  create(ctx: MixerContext, config: C): Mixer;
}

/** A spec of any config type, as the registry stores it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMixerSpec = MixerSpec<any>;
