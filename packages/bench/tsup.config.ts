import { cpSync, mkdirSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    // The repository's suites and Tiny Shakespeare ship with the package, so the default
    // suite and its lm-char data work outside the repository (see src/shipped.ts).
    onSuccess: async () => {
      cpSync('../../benchmarks/suites', 'dist/suites', { recursive: true });
      mkdirSync('dist/data', { recursive: true });
      for (const file of ['tinyshakespeare.txt', 'README.md']) cpSync(`../../benchmarks/data/${file}`, `dist/data/${file}`);
    },
  }),
);
