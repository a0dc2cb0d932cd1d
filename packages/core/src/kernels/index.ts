// @shiftmix/core/kernels: fused kernels and the ops that run them, and what a backend
// package or a plugin needs to add its own. A fused kernel is one object (defineKernel):
// its contract, composite reference, gradient and parity checks, in one file each below;
// backends implement it by name, ops call it.
export * from './kernel.js';
export * from './parity.js';
export * from './adamw.js';
export * from './attention.js';
export * from './attention-checks.js';
export * from './bias-gelu.js';
export * from './cross-entropy.js';
export * from './cross-entropy-cases.js';
export * from './dropout.js';
export * from './fusion-blend.js';
export * from './group-shift.js';
export * from './hsm-ab.js';
export * from './layer-norm.js';
export { keepForGradient, takeForGradient } from './saved.js';
export * from './dropout-hash.js';
export { loadWasmBackend, registerBackendProvider, startWasmBackend, type BackendProvider, type BackendThreads } from '../backend.js';
export { registerMissingWasmKernels, unsortedSegmentSumReference } from '../backends/wasm-kernels.js';
export { ONE_HOT_GRAD_MAX_VOCAB, embed, embedOneHotGrad } from '../layers/linear.js';
export { meanLastAxis, sumAll } from '../layers/norm.js';
// A backend's compiled form of a planned training step (the WebGPU backend's recorded dispatches).
export { registerStepCompiler, type CompiledStep, type StepCompiler } from '../train/plan/compile.js';
export { callAttrs, readResult, replayPlan, takeDraws, type ReadyPlan, type ReplayHooks, type ReplayInputs, type ReplayResult } from '../train/plan/replay.js';
export type { PlannedCall, Source, StepPlan } from '../train/plan/plan.js';
