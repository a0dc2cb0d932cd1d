import { attentionChecks } from './attention-checks.js';
import { runCheck, type ParityCheck, type ParityResult } from './compare.js';
import { crossEntropyChecks } from './cross-entropy-checks.js';
import { matmulChecks } from './matmul-checks.js';
import { mixChecks } from './mix-checks.js';
import { normChecks } from './norm-checks.js';
import { trainChecks } from './train-checks.js';

/** Every kernel parity check, in the order the page and the Node runner take them. */
export function allChecks(): ParityCheck[] {
  return [...mixChecks, ...normChecks, ...crossEntropyChecks, ...attentionChecks, ...matmulChecks(), ...trainChecks];
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
