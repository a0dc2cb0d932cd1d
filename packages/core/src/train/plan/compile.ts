import type { ReadyPlan, ReplayInputs } from './replay.js';

// A backend may turn a plan into something cheaper to run than a call per kernel: the
// WebGPU backend records the step's dispatches once and encodes them again each step, with
// the pipelines, bind groups and buffers made at compile time. Compiling runs one step.

/** A compiled step: queues one step and gives the function that reads its result. */
export interface CompiledStep {
  run(inputs: ReplayInputs): () => Promise<Float32Array>;
  /** Whether something it binds changed since it was compiled (a weight given a new buffer): it is then dropped and the plan compiled again. */
  stale(): boolean;
  /** Gives back what it holds (buffers to the backend's pool). */
  dispose(): void;
}

/** One step of `ready`, run while compiling it: its result, and the compiled step or why there is none. */
export type StepCompiler = (
  ready: ReadyPlan,
  inputs: ReplayInputs,
) => Promise<{ values: Float32Array; compiled: CompiledStep } | { values: Float32Array; reason: string }>;

const compilers = new Map<string, StepCompiler>();

/** Registers the compiler of planned steps for tfjs backend `backend` (a backend package does this on import). */
export function registerStepCompiler(backend: string, compiler: StepCompiler): void {
  compilers.set(backend, compiler);
}

export function stepCompiler(backend: string): StepCompiler | undefined {
  return compilers.get(backend);
}
