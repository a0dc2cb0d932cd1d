import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import sibling packages from their sources, so a change in core is seen by the
// mixers' tests without a rebuild; the published packages resolve through dist/.
export function sharedTestConfig(_packageUrl: string): UserConfig {
  return {
    resolve: {
      alias: [
        { find: /^@shiftmix\/core\/testing$/, replacement: `${root}packages/core/src/testing/index.ts` },
        { find: /^@shiftmix\/core\/text$/, replacement: `${root}packages/core/src/text.ts` },
        { find: /^@shiftmix\/core\/plugins$/, replacement: `${root}packages/core/src/plugins/index.ts` },
        { find: /^@shiftmix\/core\/tooling$/, replacement: `${root}packages/core/src/tooling.ts` },
        { find: /^@shiftmix\/core\/kernels$/, replacement: `${root}packages/core/src/kernels/index.ts` },
        { find: /^@shiftmix\/core$/, replacement: `${root}packages/core/src/index.ts` },
        { find: /^@shiftmix\/mixer-hsm-ab$/, replacement: `${root}packages/mixer-hsm-ab/src/index.ts` },
        { find: /^@shiftmix\/mixer-learned-fusion$/, replacement: `${root}packages/mixer-learned-fusion/src/index.ts` },
        { find: /^@shiftmix\/mixer-softmax-attention$/, replacement: `${root}packages/mixer-softmax-attention/src/index.ts` },
        { find: /^@shiftmix\/webgpu\/parity$/, replacement: `${root}packages/webgpu/src/parity/index.ts` },
        { find: /^@shiftmix\/webgpu$/, replacement: `${root}packages/webgpu/src/index.ts` },
        { find: /^@shiftmix\/native$/, replacement: `${root}packages/native/src/index.ts` },
        { find: /^@shiftmix\/onnx$/, replacement: `${root}packages/onnx/src/index.ts` },
        { find: /^@shiftmix\/bench$/, replacement: `${root}packages/bench/src/index.ts` },
      ],
    },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      fileParallelism: false,
    },
  };
}
