import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/main.ts', 'src/gpu/main.ts', 'src/gpu/attention-matmul-main.ts', 'src/gpu/train-step.ts', 'src/gpu/targets-main.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
