import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sharedTestConfig } from '../../vitest.shared.ts';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  // Relative asset paths: the built demo works from any folder of any static server.
  base: './',
  // The kernel parity page imports the shiftmix packages from their sources, as the tests
  // do, so it checks the kernels of this checkout without a package build first.
  resolve: { alias: sharedTestConfig(import.meta.url).resolve!.alias },
  // Module workers, so the worker can import onnxruntime-web as an ES module.
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // kernels.html carries the whole of tfjs (about 1.3 MB), as core imports it.
    chunkSizeWarningLimit: 2048,
    // The demo's pages (generate, train, decode), and kernels.html: the fused WGSL kernels against
    // their references.
    rollupOptions: {
      input: { main: page('index.html'), train: page('train.html'), decode: page('decode.html'), kernels: page('kernels.html') },
      // Core's checkpoint and training modules import node:fs and friends; the pages call
      // none of them (the Train page's worker keeps checkpoints in memory), so their
      // stand-ins in the browser need no warning each, wherever they are imported from.
      onwarn(warning, warn) {
        const nodeOnly = warning.code === 'INEFFECTIVE_DYNAMIC_IMPORT' && /__vite-browser-external:node:/.test(warning.message);
        if (!nodeOnly && !/externalized for browser compatibility/.test(warning.message)) warn(warning);
      },
    },
  },
  // onnxruntime-web finds its .wasm next to itself (new URL(..., import.meta.url)), which
  // Vite turns into an asset of this site: nothing is fetched from a CDN. Pre-bundling
  // in dev would move the module away from that file, so it is left out.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
