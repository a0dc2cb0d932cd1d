import { tf } from '@shiftmix/core';
import { profileStep, syncWebGpu, type StepProfile } from '@shiftmix/webgpu';
import { TrainStepRunner, timeTrainSteps as timeSteps, type TimeOptions, type TrainStepOptions, type TrainStepTiming } from '../steps/runner.js';

export { TrainStepRunner, registerLmCharMixers, type TrainStepOptions, type TrainStepTiming } from '../steps/runner.js';

/** The lm-char models of the default suite whose whole steps are timed. */
export const LM_CHAR_MODELS: Record<string, string> = {
  gpt: 'softmax-attention*6',
  'hsm-ab': 'hsm-ab*6',
  hybrid: 'hsm-ab,softmax-attention,hsm-ab,hsm-ab,softmax-attention,hsm-ab',
  'hsm-ab-last-attn': 'hsm-ab*5,softmax-attention',
};

/** PyTorch 2.11, fp32 (no TF32), eager, one H100, standard lm-char recipe. */
export const PYTORCH_H100_MS_PER_STEP: Record<string, number> = { gpt: 33.5, 'hsm-ab': 30.6 };

/** Waits for the GPU queue to drain (no-op on other backends). */
export async function settleBackend(): Promise<void> {
  if (tf.getBackend() === 'webgpu') await syncWebGpu();
}

/** timeTrainSteps of ../steps/runner.js with the GPU queue drained around the timed loop. */
export function timeTrainSteps(runner: TrainStepRunner, warmup: number, steps: number, options: TimeOptions = {}): Promise<TrainStepTiming> {
  return timeSteps(runner, warmup, steps, { settle: settleBackend, ...options });
}

/**
 * Per-kernel GPU time of one whole training step of `options` on the active backend
 * (profileStep; pipelines are compiled by its warm-up step). The model is disposed after.
 */
export async function profileTrainStep(options: TrainStepOptions): Promise<StepProfile> {
  // Kernels are timed as tfjs runs them: the eager step.
  const runner = new TrainStepRunner({ ...options, plan: false });
  try {
    return await profileStep(async () => {
      await runner.step();
      await settleBackend();
    });
  } finally {
    await runner.dispose();
  }
}
