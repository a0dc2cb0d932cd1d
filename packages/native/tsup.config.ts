import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// Declarations come from tsc, one .d.ts per source file, after the bundle: tsup's bundled
// declarations drop the module augmentations through which each glue file of src/wasm/
// adds the addon functions it calls to NativeKernels.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

export default defineConfig(
  packageBuild({
    dts: false,
    onSuccess: async () => {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    },
  }),
);
