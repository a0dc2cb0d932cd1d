import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { chromiumMissing, startSite, type Site } from './harness.mjs';

// What every end-to-end file of the demo's pages starts with: the built site served on
// 127.0.0.1 with headless Chromium, for the whole file, and the folder its screenshots go to.

export const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const shots = join(app, 'test-results');
export const MINUTE = 60_000;

/** Starts the site before the file's tests (after `prepare`, if given) and stops it after them. */
export function useSite(prepare?: () => Promise<void>): { readonly site: Site } {
  // Without Chromium the file fails to load, with the message saying how to install it.
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const holder = {} as { site: Site };
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    holder.site = await startSite(app);
    await prepare?.();
  }, 5 * MINUTE);
  afterAll(async () => {
    await holder.site?.close();
  });
  return holder;
}

/** The page on a phone's screen (390 x 844): nothing wider than the screen; a screenshot as `shot`. */
export async function expectFitsPhone(page: Page, shot: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: join(shots, shot), fullPage: true });
}
