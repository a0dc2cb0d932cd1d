// Shared by the end-to-end tests and the decode benchmark: the Vite build, a small static
// server for the built site, and headless Chromium with WebGPU (SwiftShader when there is
// no GPU).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';

export const CHROMIUM = process.env.SHIFTMIX_CHROMIUM ?? '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Serves the files under `root` on 127.0.0.1 (a free port); resolves to its URL. */
export async function serveDir(root) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error('outside'), { status: 403 });
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch (error) {
      const status = error.status ?? 404;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status === 404 ? 'not found' : 'forbidden');
    }
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

export function chromiumMissing() {
  return existsSync(CHROMIUM)
    ? null
    : `Chromium is not installed at ${CHROMIUM}. The browser demo's end-to-end test needs it: install Debian's chromium package ` +
        '(apt-get install chromium) or set SHIFTMIX_CHROMIUM to a Chromium binary.';
}

/**
 * Headless Chromium with everything that would reach the network off. WebGPU is on
 * unless `webgpu` is false: then navigator.gpu finds no adapter, as on a machine
 * without a usable GPU.
 */
export async function launchChromium({ webgpu = true } = {}) {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless=new',
      ...(webgpu ? ['--enable-unsafe-webgpu'] : []),
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
      '--no-first-run',
      '--no-default-browser-check',
      '--metrics-recording-only',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Builds the site with Vite (the demo and kernels.html) into `app`/dist, serves it and
 * starts headless Chromium (`webgpu` as in launchChromium). `close` stops both.
 */
export async function startSite(app, { webgpu = true } = {}) {
  await build({ root: app, logLevel: 'warn', configFile: join(app, 'vite.config.ts') });
  const server = await serveDir(join(app, 'dist'));
  let browser;
  try {
    browser = await launchChromium({ webgpu });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    url: server.url,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
