import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar } from '../src/train/tar.js';
import { MINUTE, shots, useSite } from './site.js';

// The Train page's "Export to ONNX" in headless Chromium: the model trained in the page is
// exported in its worker (as `shiftmix export` writes it), sampled by onnxruntime-web
// through the Generate page's model worker, and must give the trainer's own text for the same seed.

const served = useSite();

/** Trains hsm-ab (D 32, context 32) in the Train page with `query`'s steps, batch and tokenizer, exports it, and checks the export worked. */
async function trainAndExport(query: string) {
  const page = await served.site.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${served.site.url}train.html?models=hsm-ab&dim=32&heads=2&ctx=32&lr=0.003&provider=wasm&${query}&autostart`);
  await page.waitForFunction(() => window.trainDemo?.state === 'done', null, { timeout: 3 * MINUTE });
  await page.click('#export');
  await page.waitForFunction(() => window.trainDemo.exported ?? window.trainDemo.exportError, null, { timeout: 2 * MINUTE });
  const { exported, exportError } = await page.evaluate(() => window.trainDemo);
  expect(exportError).toBeUndefined();
  return { page, exported: exported! };
}

describe('exporting a model trained in the page', () => {
  it(
    'samples the export with onnxruntime-web to the same text as the trained model with the same seed, and downloads it',
    async () => {
      const { page, exported } = await trainAndExport('steps=150&batch=8');
      expect(exported.provider).toBe('wasm');
      expect(Object.keys(exported.sizes).sort()).toEqual(['decode.onnx', 'model.json', 'model.onnx']);
      // The prompt and 100 characters, the same through both runtimes.
      expect(exported.text).toHaveLength('ROMEO:'.length + 100);
      expect(exported.text).toBe(exported.trainerText);
      // A text, not a repeated letter: the comparison covers many different logits.
      expect(new Set(exported.text.slice('ROMEO:'.length)).size).toBeGreaterThan(5);
      expect(await page.textContent('#export-line')).toMatch(
        /onnxruntime-web on wasm sampled \d+ tokens\/s, the same text as the trained model gives \(same seed\)/,
      );

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-export')]);
      expect(download.suggestedFilename()).toBe('hsm-ab-4-onnx.tar');
      const files = readTar(new Uint8Array(await (await import('node:fs/promises')).readFile((await download.path())!)));
      expect([...files.keys()].filter((f) => !f.endsWith('/')).sort()).toEqual([
        'hsm-ab-4-onnx/decode.onnx',
        'hsm-ab-4-onnx/model.json',
        'hsm-ab-4-onnx/model.onnx',
      ]);
      expect(JSON.parse(new TextDecoder().decode(files.get('hsm-ab-4-onnx/model.json'))).config.layers).toBe('hsm-ab*4');
      await page.screenshot({ path: join(shots, 'train-export.png'), fullPage: true });
      await page.close();
    },
    6 * MINUTE,
  );

  it(
    "trains on GPT-2's BPE in the page, and its export samples the trainer's text in the Generate page's worker",
    async () => {
      const { page, exported } = await trainAndExport('steps=30&batch=4&tokenizer=gpt2');
      // 100 subword tokens through tfjs in the trainer and onnxruntime-web in the Generate worker, both decoded with GPT-2's BPE.
      expect(exported.text.startsWith('ROMEO:')).toBe(true);
      expect(exported.text.length).toBeGreaterThan('ROMEO:'.length + 100);
      expect(exported.text).toBe(exported.trainerText);
      await page.close();
    },
    6 * MINUTE,
  );
});
