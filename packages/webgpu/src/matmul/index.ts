export * from './kernel.js';
export * from './program.js';
export { matMulStats, registerMatMulKernels } from './register.js';
export { applyMatMulTuning, clearMatMulTuning, tuneMatMulTiles, type MatMulTileTiming, type MatMulTuningResult, type TuneMatMulOptions } from './tune.js';
