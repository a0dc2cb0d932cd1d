import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared';

const shared = sharedTestConfig(import.meta.url);

export default defineConfig({
  ...shared,
  // e2e/: the built demo in headless Chromium (builds, makes the models when missing).
  test: { ...shared.test, include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'] },
});
