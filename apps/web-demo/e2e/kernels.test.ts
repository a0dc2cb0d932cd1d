import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParityReport } from '../src/kernel-parity.js';
import { chromiumMissing, startSite, type Site } from './harness.mjs';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MINUTE = 60_000;

// Without Chromium the file fails to load, with the message saying how to install it.
const missing = chromiumMissing();
if (missing) throw new Error(missing);

let site: Site;
let report: ParityReport;

// One page load runs every check (most of its time is SwiftShader compiling the kernels);
// the tests below read its report.
beforeAll(async () => {
  site = await startSite(app);
  const page = await site.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${site.url}kernels.html`);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 8 * MINUTE });
  report = (await page.evaluate(() => window.kernelParity))!;
  expect(errors, 'errors on the page').toEqual([]);
  // The DOM shows the same report as window.kernelParity.
  expect(JSON.parse((await page.getByTestId('results').textContent()) ?? '')).toEqual(JSON.parse(JSON.stringify(report)));
  await page.close();
}, 10 * MINUTE);

afterAll(async () => {
  await site?.close();
});

describe("the WGSL kernels on Chromium's WebGPU (SwiftShader: Dawn's Vulkan backend, SPIR-V)", () => {
  it('run on a WebGPU adapter, not on a CPU fallback of tfjs', () => {
    expect(report.error).toBeUndefined();
    expect(report.state).toBe('done');
    expect(report.backend).toBe('webgpu');
    // Chromium flags SwiftShader as a fallback adapter (a CPU Vulkan device); any other
    // fallback adapter would not test the Vulkan path these checks are for.
    const adapter = report.adapter!;
    expect(adapter.isFallbackAdapter === false || /swiftshader/i.test(`${adapter.name} ${adapter.architecture}`), JSON.stringify(adapter)).toBe(true);
    expect(adapter.featureLevel).toBe('core');
  });

  it('cover every fused kernel with its forward and gradients', () => {
    const names = report.results.map((r) => r.name);
    const prefixes = [
      'hsm-ab',
      'fusion-blend',
      'dropout',
      'layerNorm',
      'addLayerNorm',
      'biasGelu',
      'crossEntropy',
      'causalAttention',
      'packedCausalAttention',
      'matmul',
      'fused matmul',
      'AdamW.clipAndApply',
      'model',
    ];
    for (const prefix of prefixes)
      expect(
        names.some((n) => n.startsWith(prefix)),
        prefix,
      ).toBe(true);
    for (const grad of ['dU', 'dG', 'dx vs the JS hash', 'dgamma', 'dh', 'db', 'dlogits', 'dQ', 'dqkv vs composite', 'dA', 'p e', 'd wte']) {
      expect(
        names.some((n) => n.endsWith(`: ${grad}`) || n.includes(`: ${grad},`)),
        grad,
      ).toBe(true);
    }
    expect(new Set(names).size, 'check names are unique').toBe(names.length);
  });

  it('match their composite references within the tolerances of the Node parity tests', () => {
    const failed = report.results.filter((r) => !r.ok);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    for (const r of report.results) {
      // 1e-4 only where the Node tests allow it: a model (cpu vs webgpu through the whole
      // stack) and the fused matmul's gradients; kernels at most 5e-5.
      const loose = r.name.startsWith('model ') || /^fused matmul .*: d/.test(r.name);
      expect(r.tol, r.name).toBeLessThanOrEqual(loose ? 1e-4 : 5e-5);
      expect(r.maxRelDiff, r.name).not.toBeNull();
      expect(r.maxRelDiff!, r.name).toBeLessThanOrEqual(r.tol);
    }
  });
});
