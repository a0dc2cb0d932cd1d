import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sharedTestConfig } from '../../vitest.shared.ts';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/**
 * Core's package.json says "sideEffects": false, so the bundler takes its tf.ts for a
 * pure re-export of @tensorflow/tfjs and drops what importing tfjs does: registering the
 * gradients, the chained ops (x.slice(...)) and the cpu backend. Marking tf.ts as having
 * side effects keeps them, as in Node, where nothing is tree-shaken.
 */
function keepTfjsRegistrations(): Plugin {
  return {
    name: 'shiftmix:keep-tfjs-registrations',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!/(^|\/)tf(\.js|\.ts)?$/.test(source)) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && /packages[\\/]core[\\/]src[\\/]tf\.ts$/.test(resolved.id) ? { ...resolved, moduleSideEffects: true } : resolved;
    },
  };
}

export default defineConfig({
  // Relative asset paths: the built demo works from any folder of any static server.
  base: './',
  plugins: [keepTfjsRegistrations()],
  // The kernel parity page imports the shiftmix packages from their sources, as the tests
  // do, so it checks the kernels of this checkout without a package build first.
  resolve: { alias: sharedTestConfig(import.meta.url).resolve!.alias },
  // Module workers, so the worker can import onnxruntime-web as an ES module.
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // kernels.html carries the whole of tfjs (about 1.3 MB), as core imports it.
    chunkSizeWarningLimit: 2048,
    // The demo, and kernels.html: the fused WGSL kernels against their references.
    rollupOptions: {
      input: { main: page('index.html'), kernels: page('kernels.html') },
      // Core's checkpoint and training modules import node:fs and friends; the kernel page
      // never reaches them, so their stand-ins in the browser need no warning each.
      onwarn(warning, warn) {
        if (!/externalized for browser compatibility/.test(warning.message)) warn(warning);
      },
    },
  },
  // onnxruntime-web finds its .wasm next to itself (new URL(..., import.meta.url)), which
  // Vite turns into an asset of this site: nothing is fetched from a CDN. Pre-bundling
  // in dev would move the module away from that file, so it is left out.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
