import { defineConfig } from 'vitest/config';

// These tests use the built packages as a user gets them (packed tarballs, the repository's
// own node_modules/.bin), never the sources, so no aliases; each file runs its steps in order.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
