export { MATMUL_TILES, chooseTile, fusedEpilogue, matMulShape, matMulTuning, runMatMul, tilesFor } from './kernel.js';
export { MatMulProgram, tileStorageBytes, tileThreads, type MatMulActivation, type MatMulEpilogue, type MatMulShape, type MatMulTile } from './program.js';
export { matMulStats, registerMatMulKernels } from './register.js';
