import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    entry: [
      'src/index.ts',
      'src/testing/index.ts',
      'src/text.ts',
      'src/kernels/index.ts',
      'src/plugins/index.ts',
      'src/tooling.ts',
      'src/train/parallel/worker.ts',
    ],
    external: ['vitest'],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
    dts: {
      // Bundling the declarations drops side-effect imports, and this one types the chained
      // ops (x.reshape()) on the Tensor of every package that takes `tf` from core. tfjs-core's
      // declarations use the global Long of @types/long (its dependency), which a project
      // whose tsconfig lists its own "types" would otherwise not load.
      banner: ['/// <reference types="long" />', "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';"].join('\n'),
    },
  }),
);
