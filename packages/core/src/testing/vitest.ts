import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyMixerSpec } from '../contract.js';
import { selectBackend } from '../backend.js';
import { runConformanceCheck } from './conformance.js';
import { resolveOptions, type ConformanceOptions } from './harness.js';

/**
 * Registers a vitest suite with one test per conformance check of `spec`. Call it at the
 * top level of a test file (or inside a describe); give `options.title` when the same
 * mixer is checked with several configs.
 */
export function describeMixerConformance(spec: AnyMixerSpec, options: ConformanceOptions = {}): void {
  const o = resolveOptions(options);
  const config = options.config === undefined ? '' : ` ${JSON.stringify(options.config)}`;
  const title = `mixer conformance: ${spec.name}${config}${options.title ? ` (${options.title})` : ''}`;
  describe(title, () => {
    beforeAll(async () => {
      await selectBackend(o.backend);
    });
    for (const name of o.checks) {
      it(name, () => {
        const result = runConformanceCheck(spec, name, options);
        expect(result.passed, result.message).toBe(true);
      });
    }
  });
}
