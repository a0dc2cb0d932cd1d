export {
  DEEP_K_TILES,
  MATMUL_TILES,
  SUBGROUP_TILES,
  chooseTile,
  fusedEpilogue,
  matMulShape,
  matMulTuning,
  preferredTiles,
  runMatMul,
  setPreferredTiles,
  tilesFor,
} from './kernel.js';
export {
  MatMulProgram,
  SUBGROUP_ROWS_STATE,
  subgroupRowsCheck,
  tileStorageBytes,
  tileThreads,
  type MatMulActivation,
  type MatMulEpilogue,
  type MatMulShape,
  type MatMulTile,
} from './program.js';
export { matMulStats, registerMatMulKernels } from './register.js';
export { applyMatMulTuning, clearMatMulTuning, tuneMatMulTiles, type MatMulTileTiming, type MatMulTuningResult, type TuneMatMulOptions } from './tune.js';
