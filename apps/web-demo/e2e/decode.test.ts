import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyExport } from '../src/test-models.js';
import { MINUTE, app, expectFitsPhone, shots, useSite } from './site.js';

// The Decode page (decode.html) in headless Chromium, on two small untrained exports with
// a context of 96 (decode cost does not depend on the weights' values): each step is timed
// and the state it carries is measured, flat for shift rings, growing for attention.

const CONTEXT = 96;

// Served from the built site, as the bundled models are.
async function exportTestModels(): Promise<void> {
  for (const [id, layers] of [
    ['test-hsm', 'hsm-ab*2'],
    ['test-gpt', 'softmax-attention*2'],
  ]) {
    const exported = await tinyExport(layers, CONTEXT);
    const dir = join(app, 'dist/models', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'decode.onnx'), exported.decode);
    writeFileSync(join(dir, 'model.json'), exported.manifestText);
  }
}

const served = useSite(exportTestModels);

describe('the Decode page', () => {
  it(
    'times every step of both models and charts the state they carry: flat for HSM, growing for attention',
    async () => {
      const page = await served.site.browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${served.site.url}decode.html?a=test-hsm&b=test-gpt&positions=${CONTEXT}&provider=wasm&autostart`);
      await page.waitForFunction(() => window.decodeDemo?.state === 'done', null, { timeout: 3 * MINUTE });
      const results = await page.evaluate(() => window.decodeDemo.results);
      expect(results.map((r) => [r.model, r.provider, r.error])).toEqual([
        ['test-hsm', 'wasm', undefined],
        ['test-gpt', 'wasm', undefined],
      ]);
      const [hsm, gpt] = results;
      for (const r of results) {
        expect(r.stepMs).toHaveLength(CONTEXT - 1);
        expect(r.stepMs.every((ms) => ms >= 0)).toBe(true);
      }
      expect(new Set(hsm.stateBytes).size).toBe(1);
      expect(gpt.stateBytes.slice(1).every((b, i) => b > gpt.stateBytes[i])).toBe(true);
      for (const chart of ['latency', 'memory']) expect(await page.locator(`#${chart} path`).count()).toBe(2);
      expect(await page.locator('#results tbody tr').count()).toBe(2);
      await page.screenshot({ path: join(shots, 'decode.png'), fullPage: true });
      await expectFitsPhone(page, 'decode-390.png');
      await page.close();
    },
    4 * MINUTE,
  );
});
