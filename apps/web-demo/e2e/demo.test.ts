import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, startSite, type Site } from './harness.mjs';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(app, 'public/models');
const shots = join(app, 'test-results');
const MINUTE = 60_000;

// Without Chromium the file fails to load, with the message saying how to install it.
const missing = chromiumMissing();
if (missing) throw new Error(missing);

let site: Site;

beforeAll(async () => {
  if (!['hsm', 'gpt'].every((id) => existsSync(join(models, id, 'decode.onnx')))) {
    // Trains and exports the two small models with the shiftmix CLI (a few minutes).
    execFileSync(process.execPath, [join(app, 'scripts/make-models.mjs')], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  mkdirSync(shots, { recursive: true });
  site = await startSite(app);
}, 20 * MINUTE);

afterAll(async () => {
  await site?.close();
});

const panel = (page: Page, i: number): Locator => page.getByTestId(`panel-${i}`);

async function waitFor(page: Page, i: number, states: string[], timeout = 5 * MINUTE): Promise<string> {
  await page.waitForFunction(
    ([testid, wanted]) => wanted.includes(document.querySelector<HTMLElement>(`[data-testid=${testid}]`)?.dataset.state ?? ''),
    [`panel-${i}`, states] as const,
    { timeout },
  );
  return (await panel(page, i).getAttribute('data-state'))!;
}

async function open(b: Browser, query: string): Promise<Page> {
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${site.url}?${query}`);
  await page.waitForSelector('body[data-ready=true]');
  return page;
}

async function generateWith(page: Page, prompt: string, tokens: number): Promise<void> {
  await page.fill('#prompt', prompt);
  await page.fill('#max-tokens', String(tokens));
  await page.click('#generate');
}

function vocabulary(id: string): Set<string> {
  return new Set(JSON.parse(readFileSync(join(models, id, 'model.json'), 'utf8')).tokenizer.chars);
}

describe('the web demo in headless Chromium', () => {
  it(
    'generates with an HSM and a GPT model side by side on WebGPU',
    async () => {
      const page = await open(site.browser, 'mode=compare');
      const expectations = [
        { layers: 'hsm-ab', chars: vocabulary('hsm') },
        { layers: 'softmax-attention', chars: vocabulary('gpt') },
      ];
      for (const i of [0, 1]) expect(await waitFor(page, i, ['ready', 'error'])).toBe('ready');
      await generateWith(page, 'ROMEO:\n', 40);
      for (const [i, want] of expectations.entries()) {
        expect(await waitFor(page, i, ['done', 'error'])).toBe('done');
        const p = panel(page, i);
        expect(await p.locator('.info').textContent()).toContain(want.layers);
        expect(await p.locator('.provider').textContent()).toBe('webgpu');
        expect(await p.locator('.fallback').textContent()).toMatch(/WebGPU adapter: .*swiftshader/i);
        const text = (await p.locator('.output .generated').textContent()) ?? '';
        expect([...text]).toHaveLength(40);
        expect([...text].every((ch) => want.chars.has(ch))).toBe(true);
        expect(Number(await p.locator('.tps').getAttribute('data-value'))).toBeGreaterThan(0);
        expect(await p.locator('.tps').textContent()).toMatch(/^\d+(\.\d+)? tokens\/s$/);
      }
      await page.screenshot({ path: join(shots, 'side-by-side-webgpu.png'), fullPage: true });

      // Stop ends the running model within a step and does not start the next one.
      await generateWith(page, 'ROMEO:\n', 5000);
      await page.waitForFunction(() => (document.querySelector('[data-testid=panel-0] .generated')?.textContent ?? '').length >= 3);
      await page.click('#stop');
      expect(await waitFor(page, 0, ['done', 'error'])).toBe('done');
      await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#generate')?.disabled);
      const stats = JSON.parse((await panel(page, 0).getAttribute('data-stats'))!);
      expect(stats.generatedTokens).toBeGreaterThanOrEqual(3);
      expect(stats.generatedTokens).toBeLessThan(5000);
      expect(await panel(page, 0).locator('.stats').textContent()).toContain('stopped');
      // Model B still shows its 40 tokens from before: it was not started again.
      expect(JSON.parse((await panel(page, 1).getAttribute('data-stats'))!).generatedTokens).toBe(40);
      await page.close();
    },
    15 * MINUTE,
  );

  it(
    'falls back to wasm and says why when there is no WebGPU adapter',
    async () => {
      const plain = await launchChromium({ webgpu: false });
      try {
        const page = await open(plain, 'a=gpt');
        expect(await waitFor(page, 0, ['ready', 'error'])).toBe('ready');
        expect(await page.getByTestId('env').textContent()).toMatch(/WebGPU unavailable: no WebGPU adapter.*returned null/);
        const p = panel(page, 0);
        expect(await p.locator('.provider').textContent()).toBe('wasm');
        expect(await p.locator('.fallback').textContent()).toMatch(/WebGPU not used, running on wasm \(CPU\): no WebGPU adapter/);
        await generateWith(page, 'JULIET:\n', 20);
        expect(await waitFor(page, 0, ['done', 'error'])).toBe('done');
        expect([...((await p.locator('.output .generated').textContent()) ?? '')]).toHaveLength(20);
        expect(Number(await p.locator('.tps').getAttribute('data-value'))).toBeGreaterThan(0);
        await page.screenshot({ path: join(shots, 'fallback-wasm.png'), fullPage: true });
      } finally {
        await plain.close();
      }
    },
    10 * MINUTE,
  );

  it(
    'explains unknown prompt characters, a bad model file and a tokenizer that does not fit',
    async () => {
      const page = await open(site.browser, 'a=hsm&provider=wasm');
      const p = panel(page, 0);
      expect(await waitFor(page, 0, ['ready', 'error'])).toBe('ready');
      await generateWith(page, 'ROMEO: 5€ «hi»', 10);
      expect(await waitFor(page, 0, ['error', 'done'])).toBe('error');
      expect(await p.locator('.message').getAttribute('data-code')).toBe('E_UNKNOWN_CHAR');
      expect(await p.locator('.message').textContent()).toMatch(/tokenizer does not know: .*"€".*"«"/);
      await page.screenshot({ path: join(shots, 'message-unknown-characters.png'), fullPage: true });

      const manifest = readFileSync(join(models, 'hsm', 'model.json'), 'utf8');
      const upload = async (files: { name: string; body: string | Buffer }[]) => {
        await p.locator('input.files').setInputFiles(files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.body) })));
        return waitFor(page, 0, ['ready', 'error']);
      };
      expect(
        await upload([
          { name: 'model.json', body: manifest },
          { name: 'decode.onnx', body: '<!doctype html>' },
        ]),
      ).toBe('error');
      expect(await p.locator('.message').getAttribute('data-code')).toBe('E_BAD_MODEL');
      expect(await p.locator('.message').textContent()).toMatch(/decode\.onnx is not an ONNX model/);
      await page.screenshot({ path: join(shots, 'message-bad-model.png'), fullPage: true });

      const json = JSON.parse(manifest);
      json.tokenizer.chars = json.tokenizer.chars.slice(0, -3);
      json.vocabSize -= 3;
      const decode = readFileSync(join(models, 'hsm', 'decode.onnx'));
      expect(
        await upload([
          { name: 'model.json', body: JSON.stringify(json) },
          { name: 'decode.onnx', body: decode },
        ]),
      ).toBe('error');
      expect(await p.locator('.message').getAttribute('data-code')).toBe('E_VOCAB_MISMATCH');
      expect(await p.locator('.message').textContent()).toMatch(/logits of shape \[1, 1, \d+\] but the tokenizer has \d+ characters/);
      await page.screenshot({ path: join(shots, 'message-vocabulary-mismatch.png'), fullPage: true });

      expect(await upload([{ name: 'model.json', body: manifest }])).toBe('error');
      expect(await p.locator('.message').textContent()).toMatch(/no decode\.onnx among the chosen files/);
      await page.screenshot({ path: join(shots, 'message-missing-file.png'), fullPage: true });
      await page.close();
    },
    10 * MINUTE,
  );
});
