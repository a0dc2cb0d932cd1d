import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The repository's suites ship with the package, so `--suite default` works anywhere.
  onSuccess: async () => {
    cpSync('../../benchmarks/suites', 'dist/suites', { recursive: true });
  },
});
