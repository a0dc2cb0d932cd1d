import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

export default defineConfig(
  packageBuild({
    entry: [
      'src/index.ts',
      'src/gpu/main.ts',
      'src/gpu/attention-matmul-main.ts',
      'src/gpu/train-step.ts',
      'src/gpu/targets-main.ts',
      'src/gpu/kernel-parity.ts',
      'src/cpu/steps.ts',
      'src/cpu/vs-torch.ts',
    ],
  }),
);
