import { tf } from '@shiftmix/core';
import { readResult, registerStepCompiler, replayPlan, type StepCompiler } from '@shiftmix/core/kernels';
import { WEBGPU_BACKEND } from '../runtime.js';
import { CompiledWebGpuStep } from './compiled.js';
import { recordStep, type RecordingBackend } from './record.js';

/**
 * Compiles a planned step on WebGPU: one kernel-by-kernel replay is recorded at the level
 * of the device's commands, and later steps encode those commands again (CompiledWebGpuStep).
 */
export const compileWebGpuStep: StepCompiler = async (ready, inputs) => {
  const backend = tf.engine().backend;
  const be = backend as unknown as RecordingBackend;
  // Everything the step reads from the host goes to the device before the recording: data
  // uploaded at its first use could land in a buffer an earlier dispatch of the same step
  // wrote, which a replay would then overwrite every step.
  for (const t of [...ready.plan.externals, inputs.batch.x, inputs.batch.y]) be.uploadToGPU(t.dataId);
  for (const dataId of ready.constants) be.uploadToGPU(dataId);
  const { result, tape } = recordStep(backend as never, (setCall) => replayPlan(ready, inputs, { beforeCall: setCall }));
  const resultBuffer = be.tensorMap.get(result.dataId)?.resource as GPUBuffer | undefined;
  const values = await readResult(ready, result);
  if (!resultBuffer) return { values, reason: 'the result was not on the device' };
  const compiled = CompiledWebGpuStep.create(backend, ready, { tape, batch: inputs.batch, result: resultBuffer });
  return typeof compiled === 'string' ? { values, reason: compiled } : { values, compiled };
};

registerStepCompiler(WEBGPU_BACKEND, compileWebGpuStep);
