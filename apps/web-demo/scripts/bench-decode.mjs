#!/usr/bin/env node
// Decode speed in the browser: steps the bench models (context 512, made by
// make-models.mjs --bench) from position 0 to the end of the context in headless
// Chromium and prints tokens/s around positions 32, 256 and the last one, per provider.
// Each model first runs the whole context once untimed, so that no kernel compiled on
// first use of a shape (a KV cache length) is in the timing, then `--passes` timed
// times; each figure is the best pass, as other work on the machine only slows it.
//
//   node scripts/bench-decode.mjs [--providers webgpu,wasm] [--models bench-hsm,bench-gpt] [--passes 2]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSite } from '../e2e/harness.mjs';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const providers = value('--providers', 'webgpu,wasm').split(',');
const models = value('--models', 'bench-hsm,bench-gpt').split(',');
const passes = Number(value('--passes', '2'));
const HALF_WINDOW = 8;

/**
 * Tokens/s at `position`: steps over their summed time in a window around it (browsers
 * round performance.now() in pages that are not cross-origin isolated, so single
 * short steps are not timed exactly).
 */
function speedAt(stepMs, position) {
  const from = Math.max(1, position - HALF_WINDOW);
  const window = stepMs.slice(from, Math.min(stepMs.length, position + HALF_WINDOW + 1)).filter((v) => typeof v === 'number');
  return (1000 * window.length) / window.reduce((a, b) => a + b, 0);
}

/** Waits until the panel has the result of the last Generate (or an error). */
async function finished(page) {
  await page.waitForFunction(
    () => {
      const panel = document.querySelector('[data-testid=panel-0]');
      return panel?.dataset.state === 'error' || panel?.dataset.stats !== undefined;
    },
    null,
    { timeout: 1_800_000 },
  );
}

for (const id of models) {
  if (!existsSync(join(app, 'public/models', id, 'decode.onnx'))) {
    execFileSync(process.execPath, [join(app, 'scripts/make-models.mjs'), '--bench'], { stdio: ['ignore', 'inherit', 'inherit'] });
    break;
  }
}
const { url, browser, close } = await startSite(app);
const rows = [];
try {
  for (const id of models) {
    const manifest = JSON.parse(readFileSync(join(app, 'public/models', id, 'model.json'), 'utf8'));
    const end = (manifest.maxSequenceLength ?? manifest.config.contextLength) - 1;
    for (const provider of providers) {
      const page = await browser.newPage();
      await page.goto(`${url}?a=${id}&provider=${provider}&timings=1`);
      const state = () => page.getByTestId('panel-0').getAttribute('data-state');
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('[data-testid=panel-0]')?.dataset.state ?? ''), null, {
        timeout: 600_000,
      });
      if ((await state()) !== 'ready') throw new Error(`${id} on ${provider}: ${await page.locator('[data-testid=panel-0] .message').textContent()}`);
      await page.fill('#prompt', '\n');
      await page.fill('#max-tokens', String(end));
      const speeds = [0, 0, 0];
      let mean = 0;
      for (let pass = 0; pass <= passes; pass++) {
        await page.click('#generate');
        await finished(page);
        if ((await state()) === 'error') throw new Error(`${id} on ${provider}: ${await page.locator('[data-testid=panel-0] .message').textContent()}`);
        if (pass === 0) continue;
        const stats = JSON.parse((await page.getByTestId('panel-0').getAttribute('data-stats')) ?? '{}');
        [32, 256, end].forEach((p, i) => (speeds[i] = Math.max(speeds[i], speedAt(stats.stepMs ?? [], p))));
        mean = Math.max(mean, stats.tokensPerSecond);
      }
      const used = await page.locator('[data-testid=panel-0] .provider').textContent();
      rows.push({ model: `${id} (${manifest.config.layers})`, provider: used, end, speeds, mean });
      console.error(`${id} ${used}: ${speeds.map((s) => s.toFixed(1)).join(' / ')} tokens/s at 32 / 256 / ${end}`);
      await page.close();
    }
  }
} finally {
  await close();
}
console.log('| model | provider | position 32 | position 256 | last position | mean over all steps |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.model} | ${r.provider} | ${r.speeds.map((s) => s.toFixed(1)).join(' | ')} (${r.end}) | ${r.mean.toFixed(1)} |`);
