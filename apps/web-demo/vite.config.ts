import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sharedTestConfig } from '../../vitest.shared.ts';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

// The Backend menu of the pages that run shiftmix's models (decode, train), where a page has
// <backend-menu></backend-menu>.
const BACKEND_MENU = `<label>Backend
  <select id="provider">
    <option value="auto">auto (WebGPU on a GPU, else wasm)</option>
    <option value="webgpu">webgpu</option>
    <option value="wasm">wasm</option>
  </select>
</label>`;

/**
 * What the pages share, written once: the start of every <head> (the character set, the
 * phone viewport, no favicon request, the site's style sheet), before the page's own title
 * and style sheets, and the Backend menu. It runs before Vite reads the pages, so the style
 * sheet is bundled as if each page linked it.
 */
function sharedMarkup(): Plugin {
  return {
    name: 'shiftmix-shared-markup',
    transformIndexHtml: {
      order: 'pre',
      handler: (html) => ({
        html: html.replace('<backend-menu></backend-menu>', BACKEND_MENU),
        tags: [
          { tag: 'meta', attrs: { charset: 'utf-8' }, injectTo: 'head-prepend' },
          { tag: 'meta', attrs: { name: 'viewport', content: 'width=device-width, initial-scale=1' }, injectTo: 'head-prepend' },
          { tag: 'link', attrs: { rel: 'icon', href: 'data:,' }, injectTo: 'head-prepend' },
          { tag: 'link', attrs: { rel: 'stylesheet', href: '/src/style.css' }, injectTo: 'head-prepend' },
        ],
      }),
    },
  };
}

export default defineConfig({
  plugins: [sharedMarkup()],
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
