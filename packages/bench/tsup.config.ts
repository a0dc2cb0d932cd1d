import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    // The repository's suites ship with the package, so `--suite default` works anywhere.
    onSuccess: async () => {
      cpSync('../../benchmarks/suites', 'dist/suites', { recursive: true });
    },
  }),
);
