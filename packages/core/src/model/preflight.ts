import { ShiftmixError } from '../errors.js';
import { tf } from '../tf.js';
import { isShippedSource } from '../plugins/shipped.js';
import { listMixers } from '../registry.js';
import { runConformanceCheck } from '../testing/conformance.js';
import type { ConformanceCheckName } from '../testing/harness.js';
import type { ModelBlock } from './block.js';
import type { ModelConfig } from './config.js';

// Positions the checks run over: enough for several cut points, cheap at any width.
const PREFLIGHT_LENGTH = 16;
const CHECKS: ConformanceCheckName[] = ['shapes', 'causality'];

/**
 * Runs the conformance kit's shape and causality checks on every mixer of the stack that
 * shiftmix does not ship, once per mixer, config and shifts, on a fresh instance at this
 * model's width (milliseconds). A mixer that reads the future would otherwise train to a
 * loss that looks better than attention's, and one that returns the wrong shape or NaN
 * would fail later under another name.
 */
export function preflightMixers(blocks: readonly ModelBlock[], config: ModelConfig): void {
  const sources = new Map(listMixers().map((m) => [m.spec.name, m.source]));
  const seen = new Set<string>();
  for (const block of blocks) {
    if (isShippedSource(block.mixerName, sources.get(block.mixerName))) continue;
    const key = JSON.stringify([block.mixerName, block.mixerConfig, block.shifts]);
    if (seen.has(key)) continue;
    seen.add(key);
    const options = {
      dim: config.dim,
      heads: config.heads,
      contextLength: Math.min(config.contextLength, PREFLIGHT_LENGTH),
      batch: 1,
      config: block.mixerConfig,
      shifts: block.shifts.length ? block.shifts : undefined,
    };
    for (const check of CHECKS) {
      const result = onCpu(() => runConformanceCheck(block.spec, check, options));
      if (!result.passed) {
        throw new ShiftmixError(
          `mixer "${block.mixerName}" (block ${block.index + 1}) fails the conformance kit's ${check} check: ${result.message}`,
          'Fix the mixer; describeMixerConformance(spec) from @shiftmix/core/testing runs every check in a test file',
          'E_MIXER_CONFORMANCE',
        );
      }
    }
  }
}

/**
 * Runs `fn` on the cpu backend: the kit reads values synchronously, which tfjs's webgpu
 * backend cannot do in Node. Switching to a backend that is already initialized is
 * synchronous, so the active one is back before anything else runs.
 */
function onCpu<T>(fn: () => T): T {
  const active = tf.getBackend();
  if (active === 'cpu') return fn();
  void tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    void tf.setBackend(active);
  }
}
