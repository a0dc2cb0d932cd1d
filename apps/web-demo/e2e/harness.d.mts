import type { Browser } from 'playwright-core';

export const CHROMIUM: string;
export function serveDir(root: string): Promise<{ url: string; close(): Promise<void> }>;
export function chromiumMissing(): string | null;
export function launchChromium(options?: { webgpu?: boolean }): Promise<Browser>;
export interface Site {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}
export function startSite(app: string, options?: { webgpu?: boolean }): Promise<Site>;
