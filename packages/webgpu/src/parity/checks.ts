import { listKernels, runCheck, type ParityCheck, type ParityResult } from '@shiftmix/core/kernels';
import { WEBGPU_BACKEND } from '../runtime.js';
import { attentionTileChecks } from './attention-checks.js';
import { matmulChecks } from './matmul-checks.js';
import { modelChecks } from './model-checks.js';

/**
 * Every parity check this backend runs, in the order the page and the Node runner take
 * them: those of each kernel object it implements (a new kernel brings its own), then the
 * package's own (attention blocks, the matmul it replaces, the whole model).
 */
export function allChecks(): ParityCheck[] {
  const kernelChecks = listKernels()
    .filter((k) => k.implementedOn(WEBGPU_BACKEND))
    .flatMap((k) => k.checks());
  return [...kernelChecks, ...attentionTileChecks(), ...matmulChecks(), ...modelChecks];
}

/**
 * Runs the checks whose names contain `only` (all without it) on the active webgpu
 * backend, calling `onResults` after each check as its results come in.
 */
export async function runChecks(only: string | null, onResults: (results: ParityResult[], check: ParityCheck, ms: number) => void): Promise<ParityResult[]> {
  const results: ParityResult[] = [];
  for (const check of allChecks().filter((c) => !only || c.name.includes(only))) {
    const began = performance.now();
    const done = await runCheck(check);
    results.push(...done);
    onResults(done, check, performance.now() - began);
  }
  return results;
}
