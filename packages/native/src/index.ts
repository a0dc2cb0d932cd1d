// @shiftmix/native: C++ kernels for shiftmix's wasm backend. Importing the package registers
// its provider with core, so selectBackend('wasm') runs them; the addon is compiled on install.
// Every glue file of wasm/ is imported here: it implements its kernels on import, and its
// declarations add the addon functions it calls to NativeKernels, for the package's users
// too (their types reach only the files imported from here). fused.ts implements every
// kernel the addon exports in the fused convention, by name: those take no file here.
import './wasm/adamw.js';
import './wasm/attention.js';
import './wasm/fused.js';
import './wasm/replaced.js';
import './wasm/rows.js';
import './wasm/train.js';

export { loadNative, type FusedBinding, type NativeKernels, type NativeLoad } from './addon.js';
export { nativeWasmProvider } from './wasm/provider.js';
