import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/testing/index.ts'],
    external: ['vitest'],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  }),
);
