import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, startSite, type Site } from './harness.mjs';

// The Train page (train.html) in headless Chromium: models trained by shiftmix's trainer in
// a web worker, their curves on one chart, generation with the last one.

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shots = join(app, 'test-results');
const MINUTE = 60_000;

const missing = chromiumMissing();
if (missing) throw new Error(missing);

let site: Site;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  site = await startSite(app);
}, 5 * MINUTE);

afterAll(async () => {
  await site?.close();
});

interface Run {
  label: string;
  started?: { backend: string; note: string | null; trainTokens: number };
  points: { step: number; trainLoss: number; valLoss?: number }[];
  result?: { steps: number; stepKind: string; stopped: boolean };
  error?: string;
}

const SMALL = 'dim=32&heads=2&ctx=32&batch=8&lr=0.003';

async function trainPage(query: string, width = 1280): Promise<{ page: Page; runs: Run[] }> {
  const page = await site.browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${site.url}train.html?${query}&autostart`);
  await page.waitForFunction(() => window.trainDemo?.state === 'done', null, { timeout: 5 * MINUTE });
  const runs = (await page.evaluate(() => window.trainDemo.runs)) as Run[];
  for (const run of runs) expect(run.error, run.label).toBeUndefined();
  return { page, runs };
}

describe('training in the page', () => {
  it(
    'trains two models one after another on wasm: both losses fall, both curves are drawn, the last model generates',
    async () => {
      const { page, runs } = await trainPage(`models=gpt,hsm-ab&steps=40&${SMALL}&provider=wasm`);
      expect(runs.map((r) => r.label)).toEqual(['gpt', 'hsm-ab']);
      for (const run of runs) {
        expect(run.started?.backend).toBe('wasm');
        expect(run.result?.steps).toBe(40);
        expect(run.points).toHaveLength(40);
        // From about ln(65) = 4.17 at the start; 40 steps learn the character frequencies.
        expect(run.points[0].trainLoss).toBeGreaterThan(3.8);
        expect(run.points.at(-1)!.trainLoss).toBeLessThan(run.points[0].trainLoss - 0.4);
        for (const kind of ['train', 'val']) {
          const drawn = await page.getAttribute(`#chart path[data-label="${run.label}"][data-kind="${kind}"]`, 'data-points');
          expect(Number(drawn), `${run.label} ${kind}`).toBe(run.points.filter((p) => kind === 'train' || p.valLoss !== undefined).length);
        }
      }
      // The same data for both (the seed is shared too).
      expect(runs[0].started?.trainTokens).toBe(runs[1].started?.trainTokens);
      expect(await page.textContent('#runs tbody')).toContain('hsm-ab');

      await page.click('#sample');
      await page.waitForFunction(() => (window.trainDemo.sample ?? '').length > 0, null, { timeout: MINUTE });
      const sample = (await page.evaluate(() => window.trainDemo.sample))!;
      expect(sample.startsWith('ROMEO:')).toBe(true);
      expect(sample.length).toBeGreaterThan('ROMEO:'.length + 50);
      await page.screenshot({ path: join(shots, 'train-wasm.png'), fullPage: true });

      // The same page on a phone-width screen: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(shots, 'train-390.png'), fullPage: true });
      await page.close();
    },
    5 * MINUTE,
  );

  it(
    'takes wasm under auto when the only WebGPU adapter is a software one, and says why',
    async () => {
      const software = await (async () => {
        const page = await site.browser.newPage();
        await page.goto(`${site.url}train.html`);
        const info = await page.evaluate(async () => {
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
          const adapter = await gpu?.requestAdapter();
          return adapter ? JSON.stringify(adapter.info ?? {}) : null;
        });
        await page.close();
        return info !== null && /swiftshader|llvmpipe|lavapipe|software|"isFallbackAdapter":true/i.test(info);
      })();
      const { page, runs } = await trainPage(`models=gpt&steps=5&${SMALL}&provider=auto`);
      const backend = await page.textContent('#backend');
      if (software) {
        expect(runs[0].started?.backend).toBe('wasm');
        expect(backend).toMatch(/Backend: wasm \(the only WebGPU adapter is software.*choose webgpu under Backend to force it\)/);
      } else {
        expect(backend).toMatch(/^Backend: (webgpu|wasm)/);
      }
      await page.close();
    },
    5 * MINUTE,
  );

  it(
    'trains on WebGPU with the compiled step when webgpu is chosen',
    async () => {
      const { page, runs } = await trainPage(`models=hsm-ab&steps=8&${SMALL}&batch=4&provider=webgpu`);
      const [run] = runs;
      expect(run.started?.backend).toBe('webgpu');
      expect(run.result?.stepKind).toBe('compiled');
      expect(run.points.every((p) => Number.isFinite(p.trainLoss))).toBe(true);
      expect(run.points.at(-1)!.trainLoss).toBeLessThan(run.points[0].trainLoss);
      await page.screenshot({ path: join(shots, 'train-webgpu.png'), fullPage: true });
      await page.close();
    },
    5 * MINUTE,
  );
});
