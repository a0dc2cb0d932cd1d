import { cpSync, mkdirSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    // A queue worker runs each job in a child process that loads this file on its own.
    entry: { index: 'src/index.ts', 'job-process': 'src/queue/process.ts' },
    // The repository's suites and Tiny Shakespeare ship with the package, so the default
    // suite and its lm-char data work outside the repository (see src/shipped.ts).
    onSuccess: async () => {
      cpSync('../../benchmarks/suites', 'dist/suites', { recursive: true });
      mkdirSync('dist/data', { recursive: true });
      for (const file of ['tinyshakespeare.txt', 'README.md']) cpSync(`../../benchmarks/data/${file}`, `dist/data/${file}`);
    },
  }),
);
