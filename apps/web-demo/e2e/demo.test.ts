import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, startSite, type Site } from './harness.mjs';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(app, 'public/models');
const shots = join(app, 'test-results');
const MINUTE = 60_000;
// Models the test makes where there are none: they only need to load and generate, so
// they train this many steps of the recipe; npm run models makes the real ones.
const TEST_STEPS = 100;

// Without Chromium the file fails to load, with the message saying how to install it.
const missing = chromiumMissing();
if (missing) throw new Error(missing);

let site: Site;

beforeAll(async () => {
  // Makes (with the shiftmix CLI, about a minute) only the bundled models that are missing:
  // those npm run models made stay as they are.
  execFileSync(process.execPath, [join(app, 'scripts/make-models.mjs'), '--missing', '--steps', String(TEST_STEPS)], {
    cwd: app,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
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

async function open(b: Browser, query: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await b.newPage();
  await page.setViewportSize(viewport);
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

interface IndexEntry {
  id: string;
  label: string;
  valLoss: number;
  recipe: { steps: number; dim: number };
}

function bundled(): IndexEntry[] {
  return JSON.parse(readFileSync(join(models, 'index.json'), 'utf8')).models;
}

/** How often the page's visible text names a WebGPU adapter (the header should, once). */
const adapterLines = (page: Page) => page.evaluate(() => document.body.innerText.match(/WebGPU adapter:/g)?.length ?? 0);

describe('the web demo in headless Chromium', () => {
  it(
    'generates with an HSM and a GPT model side by side on WebGPU when provider=webgpu asks for it',
    async () => {
      const page = await open(site.browser, 'mode=compare&provider=webgpu');
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
        expect(await p.locator('.fallback').textContent()).toBe('WebGPU, as chosen, on a software adapter: wasm is likely faster here.');
        const text = (await p.locator('.output .generated').textContent()) ?? '';
        expect([...text]).toHaveLength(40);
        expect([...text].every((ch) => want.chars.has(ch))).toBe(true);
        expect(Number(await p.locator('.tps').getAttribute('data-value'))).toBeGreaterThan(0);
        expect(await p.locator('.tps').textContent()).toMatch(/^\d+(\.\d+)? tokens\/s$/);
      }
      // The adapter is named once, in the header, not again in each panel.
      expect(await page.getByTestId('env').textContent()).toMatch(/WebGPU adapter: .*swiftshader/i);
      expect(await adapterLines(page)).toBe(1);
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
        expect(await p.locator('.fallback').textContent()).toMatch(/^auto chose wasm \(CPU\): no WebGPU adapter/);
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
    'auto passes over the software adapter (SwiftShader) for wasm, says why, and lists the models with their recipe and loss',
    async () => {
      const page = await open(site.browser, 'a=hsm');
      // Model B's panel has loaded nothing yet: it names no provider.
      expect(await panel(page, 1).locator('.line').textContent()).toBe('Provider: not chosen yet');
      expect(await waitFor(page, 0, ['ready', 'error'])).toBe('ready');
      const env = (await page.getByTestId('env').textContent()) ?? '';
      const label = /WebGPU adapter: (.*?), a software one/.exec(env)?.[1];
      expect(label).toMatch(/swiftshader/i);
      expect(env).toMatch(
        /a software one \((marked as a fallback adapter|swiftshader in its name)\)\. Auto runs the models on wasm, which is faster here; choose the webgpu provider to use it anyway\.$/,
      );
      const p = panel(page, 0);
      expect(await p.locator('.provider').textContent()).toBe('wasm');
      expect(await p.locator('.fallback').textContent()).toBe(
        `auto chose wasm (CPU): the only WebGPU adapter is a software one (${label}), slower than wasm here.`,
      );
      expect(await p.locator('.line').textContent()).toBe('Provider: wasm');
      expect(await adapterLines(page)).toBe(1);

      // Each bundled model is listed with its validation loss, as index.json has it.
      const entries = bundled();
      expect(entries.map((e) => e.id)).toEqual(['hsm', 'learned', 'gpt']);
      const options = await p.locator('select.picker option').allTextContents();
      expect(options).toEqual([...entries.map((e) => e.label), 'Your exported model (Open folder… or Open files…)']);
      for (const e of entries) expect(e.label).toContain(`val loss ${e.valLoss.toFixed(3)}`);
      const recipe = (await p.locator('.recipe').textContent()) ?? '';
      expect(recipe).toContain(`${entries[0].recipe.steps} steps of batch 12`);
      expect(recipe).toContain(`D ${entries[0].recipe.dim}, 4 heads, context 64`);
      expect(recipe).toContain(`validation loss ${entries[0].valLoss.toFixed(3)}`);

      await generateWith(page, 'ROMEO:\n', 40);
      expect(await waitFor(page, 0, ['done', 'error'])).toBe('done');
      expect([...((await p.locator('.output .generated').textContent()) ?? '')]).toHaveLength(40);
      expect(await p.locator('.line').textContent()).toMatch(/^Provider: wasm · \d+(\.\d+)? tokens\/s \(40 tokens in/);
      await page.screenshot({ path: join(shots, 'auto-wasm-software-adapter.png'), fullPage: true });
      await page.close();
    },
    10 * MINUTE,
  );

  it(
    'fits a phone: nothing wider than 390 px, side by side included',
    async () => {
      const page = await open(site.browser, 'mode=compare&provider=wasm', { width: 390, height: 844 });
      for (const i of [0, 1]) expect(await waitFor(page, i, ['ready', 'error'])).toBe('ready');
      await generateWith(page, 'ROMEO:\n', 60);
      for (const i of [0, 1]) expect(await waitFor(page, i, ['done', 'error'])).toBe('done');
      const overflow = await page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll<HTMLElement>('body *')]
          .map((e) => ({ e, box: e.getBoundingClientRect() }))
          .filter(({ box }) => box.width > 0 && (box.right > width + 0.5 || box.left < -0.5))
          .map(({ e, box }) => `${e.tagName.toLowerCase()}${e.className ? `.${e.className}` : ''} ${Math.round(box.left)}..${Math.round(box.right)}`);
        return { width, scrollWidth: document.documentElement.scrollWidth, wide };
      });
      await page.screenshot({ path: join(shots, 'phone-390.png'), fullPage: true });
      expect(overflow.width).toBe(390);
      expect(overflow.wide).toEqual([]);
      expect(overflow.scrollWidth).toBeLessThanOrEqual(390);
      await page.close();
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
      expect(await p.locator('.message').textContent()).toMatch(/logits of shape \[1, 1, \d+\] but the tokenizer has \d+ tokens/);
      await page.screenshot({ path: join(shots, 'message-vocabulary-mismatch.png'), fullPage: true });

      expect(await upload([{ name: 'model.json', body: manifest }])).toBe('error');
      expect(await p.locator('.message').textContent()).toMatch(/no decode\.onnx among the chosen files/);
      await page.screenshot({ path: join(shots, 'message-missing-file.png'), fullPage: true });
      await page.close();
    },
    10 * MINUTE,
  );
});
