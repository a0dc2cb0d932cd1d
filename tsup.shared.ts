import type { Options } from 'tsup';

/** The build every package shares: ESM for Node 20, declarations and source maps; fields of `overrides` win. */
export function packageBuild(overrides: Options = {}): Options {
  return { entry: ['src/index.ts'], format: ['esm'], dts: true, sourcemap: true, clean: true, target: 'node20', ...overrides };
}
