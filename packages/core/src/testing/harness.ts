import type { AnyMixerSpec, Mixer, MixerContext } from '../contract.js';
import type { BackendName } from '../backend.js';
import { createWeightInit } from '../init.js';
import { Rng } from '../rng.js';
import type { ShiftSchedule } from '../schedule.js';
import { tf, type Tensor, type Tensor3D } from '../tf.js';

export const CONFORMANCE_CHECKS = ['shapes', 'causality', 'receptive-field', 'decode', 'gradients', 'checkpoint'] as const;
export type ConformanceCheckName = (typeof CONFORMANCE_CHECKS)[number];

export interface GradientCheckOptions {
  /** Central-difference step; fp32 needs a large one (default 1e-2). */
  eps?: number;
  /** A sampled entry passes when |fd - analytic| <= atol + rtol * max(|fd|, |analytic|). */
  atol?: number;
  rtol?: number;
  /** Entries sampled per weight and from the input (default 4). */
  samples?: number;
  /**
   * Std of the noise added to every weight first (default 0.1): at init biases are zero
   * and output projections tiny, which would hide wrong gradients behind small numbers.
   */
  weightNoise?: number;
}

export interface ConformanceOptions {
  /** Model width D (default 8). */
  dim?: number;
  /** Attention heads (default 2). */
  heads?: number;
  /** Context length T_max, also the sequence length of every check (default 8). */
  contextLength?: number;
  /** Batch size (default 2). */
  batch?: number;
  /** The mixer's config as a user would write it; passed through `spec.validate`. */
  config?: unknown;
  /** Shifts of the single-layer checks of a shift-based mixer (default [1, 2, 5], cut to D groups). */
  shifts?: number[];
  /** Schedule of the receptive-field stack of a shift-based mixer (default "radix"). */
  schedule?: ShiftSchedule;
  /** Depth of that stack (default: 2 for radix, ceil(log2 T) for doubling, the list length if explicit). */
  stackLayers?: number;
  /** Seed of weights and inputs (default 1). */
  seed?: number;
  /** Backend selected by `runMixerConformance` and the vitest suite (default "cpu"). */
  backend?: BackendName;
  /** The checks to run (default all). */
  checks?: ConformanceCheckName[];
  /** Checks to leave out of `checks`, e.g. ['receptive-field'] for a mixer that is not meant to reach far. */
  skip?: ConformanceCheckName[];
  /**
   * How far back one layer of a mixer that is not shift-based sees: "full" (the default,
   * like attention: the output at t depends on every input up to t) or a window of N
   * positions (t - N + 1 .. t), for a local mixer such as sliding-window attention.
   * Shift-based mixers reach far through the stack's schedule instead; for them it is unused.
   */
  receptiveField?: 'full' | number;
  /** Largest change allowed in earlier outputs when the future changes (default 0: exactly unchanged). */
  causalTolerance?: number;
  /** Largest |decode - forward| allowed (default 1e-4). */
  decodeTolerance?: number;
  gradient?: GradientCheckOptions;
  /** Extra words for the vitest suite title, e.g. to tell two configs apart. */
  title?: string;
}

export interface ConformanceCheckResult {
  name: ConformanceCheckName;
  passed: boolean;
  /** What was checked and, on failure, where it broke. */
  message: string;
  /** Measured numbers, e.g. the largest difference found. */
  details?: Record<string, number | string | number[]>;
}

export interface ConformanceReport {
  mixer: string;
  backend: string;
  passed: boolean;
  checks: ConformanceCheckResult[];
}

export type ResolvedOptions = Required<Omit<ConformanceOptions, 'config' | 'title' | 'gradient' | 'skip'>> & {
  config: unknown;
  gradient: Required<GradientCheckOptions>;
};

export function resolveOptions(options: ConformanceOptions = {}): ResolvedOptions {
  const dim = options.dim ?? 8;
  const contextLength = options.contextLength ?? 8;
  const schedule = options.schedule ?? 'radix';
  const defaultDepth = Array.isArray(schedule) ? schedule.length : schedule === 'doubling' ? Math.max(1, Math.ceil(Math.log2(contextLength))) : 2;
  return {
    dim,
    heads: options.heads ?? 2,
    contextLength,
    batch: options.batch ?? 2,
    config: options.config ?? {},
    shifts: options.shifts ?? [1, 2, 5].slice(0, Math.min(3, dim)),
    schedule,
    stackLayers: options.stackLayers ?? defaultDepth,
    seed: options.seed ?? 1,
    backend: options.backend ?? 'cpu',
    checks: (options.checks ?? [...CONFORMANCE_CHECKS]).filter((name) => !options.skip?.includes(name)),
    receptiveField: options.receptiveField ?? 'full',
    causalTolerance: options.causalTolerance ?? 0,
    decodeTolerance: options.decodeTolerance ?? 1e-4,
    gradient: { eps: 1e-2, atol: 2e-4, rtol: 2e-3, samples: 4, weightNoise: 0.1, ...options.gradient },
  };
}

export interface TestContextOptions {
  dim?: number;
  heads?: number;
  contextLength?: number;
  layerIndex?: number;
  numLayers?: number;
  shifts?: number[];
  dropout?: number;
  seed?: number;
}

/** A MixerContext as the stack would build it, for tests of a single mixer. */
export function createTestContext(options: TestContextOptions = {}): MixerContext {
  const seed = options.seed ?? 1;
  const numLayers = options.numLayers ?? 1;
  return {
    dim: options.dim ?? 8,
    heads: options.heads ?? 2,
    contextLength: options.contextLength ?? 8,
    layerIndex: options.layerIndex ?? 0,
    numLayers,
    shifts: options.shifts ?? [],
    dropout: options.dropout ?? 0,
    init: createWeightInit(new Rng(seed), numLayers),
    // A separate stream, so drawing dropout seeds never changes the weights.
    rng: new Rng(seed ^ 0x2545f491),
  };
}

export interface LayerPlacement {
  seed?: number;
  shifts?: number[];
  layerIndex?: number;
  numLayers?: number;
}

/** The context and validated config of the mixer under test at one layer of a stack (alone by default). */
export function contextUnderTest(spec: AnyMixerSpec, o: ResolvedOptions, at: LayerPlacement = {}): { ctx: MixerContext; config: unknown } {
  const ctx = createTestContext({
    dim: o.dim,
    heads: o.heads,
    contextLength: o.contextLength,
    layerIndex: at.layerIndex ?? 0,
    numLayers: at.numLayers ?? 1,
    shifts: spec.shiftBased ? (at.shifts ?? o.shifts) : [],
    seed: at.seed ?? o.seed,
  });
  return { ctx, config: spec.validate(o.config, ctx) };
}

export function createMixerUnderTest(spec: AnyMixerSpec, o: ResolvedOptions, at: LayerPlacement = {}): Mixer {
  const { ctx, config } = contextUnderTest(spec, o, at);
  return spec.create(ctx, config);
}

/** N(0, 1) input [B, T, D]; `salt` picks an independent draw. */
export function randomInput(o: ResolvedOptions, salt: number): Tensor3D {
  return tf.randomNormal([o.batch, o.contextLength, o.dim], 0, 1, 'float32', o.seed * 7919 + salt) as Tensor3D;
}

/** Adds N(0, std) noise to every float weight, in place. */
export function addWeightNoise(mixer: Mixer, std: number, seed: number): void {
  Object.values(mixer.weights).forEach((w, i) => {
    if (w.dtype !== 'float32' || std <= 0) return;
    tf.tidy(() => w.assign(tf.add(w, tf.randomNormal(w.shape, 0, std, 'float32', seed * 104729 + i))));
  });
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
