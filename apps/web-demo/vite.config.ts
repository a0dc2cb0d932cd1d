import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset paths: the built demo works from any folder of any static server.
  base: './',
  // Module workers, so the worker can import onnxruntime-web as an ES module.
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  // onnxruntime-web finds its .wasm next to itself (new URL(..., import.meta.url)), which
  // Vite turns into an asset of this site: nothing is fetched from a CDN. Pre-bundling
  // in dev would move the module away from that file, so it is left out.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
