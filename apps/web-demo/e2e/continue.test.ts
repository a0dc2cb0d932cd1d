import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MINUTE, useSite } from './site.js';

// The Train page's run controls: Stop and Continue (a stopped run goes on from the
// checkpoint its stop kept, exactly as if it had not stopped: core's resume, from files in
// memory), and a text file dropped on the page as the text to train on.

const served = useSite();

interface Point {
  step: number;
  trainLoss: number;
  valLoss?: number;
}

const QUERY = 'models=hsm-ab&steps=40&dim=32&heads=2&ctx=32&batch=8&lr=0.003&provider=wasm';
const done = (page: Page) => page.waitForFunction(() => window.trainDemo?.state === 'done', null, { timeout: 3 * MINUTE });
const points = (page: Page) => page.evaluate(() => window.trainDemo.runs[0].points as Point[]);

describe('Stop and Continue', () => {
  it(
    'continues a stopped run to the same losses, step for step, as a run that never stopped',
    async () => {
      const straight = await served.site.browser.newPage();
      await straight.goto(`${served.site.url}train.html?${QUERY}&autostart`);
      await done(straight);
      const expected = await points(straight);
      expect(expected.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      await straight.close();

      const page = await served.site.browser.newPage();
      await page.goto(`${served.site.url}train.html?${QUERY}&autostart`);
      await page.waitForFunction(() => (window.trainDemo?.runs[0]?.points.length ?? 0) >= 8, null, { timeout: MINUTE });
      await page.click('#stop');
      await done(page);
      const stopped = await page.evaluate(() => window.trainDemo.runs[0]);
      expect(stopped.result?.stopped).toBe(true);
      const stopStep = stopped.points.at(-1)!.step;
      expect(stopStep).toBeLessThan(40);
      expect(stopped.checkpointStep).toBe(stopStep);
      expect(await page.textContent('#notice')).toMatch(/^Stopped\. Continue goes on from where it stopped/);

      await page.click('#continue');
      await done(page);
      const run = await page.evaluate(() => window.trainDemo.runs[0]);
      expect(run.error).toBeUndefined();
      expect(run.result?.stopped).toBe(false);
      expect(run.result?.steps).toBe(40);
      // Every step once, and each loss (training and validation) the straight run's, bit for bit.
      expect(run.points.map((p) => p.step)).toEqual(expected.map((p) => p.step));
      expect(run.points.map((p) => [p.trainLoss, p.valLoss])).toEqual(expected.map((p) => [p.trainLoss, p.valLoss]));
      expect(await page.isDisabled('#continue')).toBe(true);
      await page.close();
    },
    6 * MINUTE,
  );

  it('trains on a text file dropped on the page, and refuses one too short to train on', async () => {
    const page = await served.site.browser.newPage();
    await page.goto(`${served.site.url}train.html?models=gpt&steps=3&dim=16&heads=2&ctx=16&batch=4&provider=wasm`);
    const drop = (name: string, content: string) =>
      page.evaluate(
        ([n, c]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([c], n, { type: 'text/plain' }));
          document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        },
        [name, content] as const,
      );
    await drop('short.txt', 'too short');
    await page.waitForFunction(() => /short\.txt holds 9 characters, too few to train on/.test(document.querySelector('#notice')!.textContent ?? ''));
    const text = 'abcab cabba\n'.repeat(300);
    await drop('abc.txt', text);
    await page.waitForFunction(() => document.querySelector('#text-name')!.textContent === 'abc.txt (3,600 characters)');
    await page.click('#train');
    await page.waitForFunction(() => window.trainDemo?.state === 'done', null, { timeout: MINUTE });
    const [run] = await page.evaluate(() => window.trainDemo.runs);
    expect(run.error).toBeUndefined();
    // Its five characters (a, b, c, space, newline), not Tiny Shakespeare's 65.
    expect(run.started?.vocabSize).toBe(5);
    expect(run.started?.trainTokens).toBe(Math.round(text.length * 0.9));
    await page.close();
  });
});
