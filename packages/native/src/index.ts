// @shiftmix/native: C++ kernels for shiftmix's wasm backend. Importing the package registers
// its provider with core, so selectBackend('wasm') runs them; the addon is compiled on install.
export { loadNative, type NativeKernels, type NativeLoad } from './addon.js';
export { nativeWasmProvider } from './wasm/provider.js';
