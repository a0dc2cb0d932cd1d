import type { AnyMixerSpec } from '../contract.js';
import { selectBackend } from '../backend.js';
import { ShiftmixError } from '../errors.js';
import { runConformanceCheck } from './conformance.js';
import { resolveOptions, type ConformanceOptions } from './harness.js';

// vitest is an optional peer: the rest of the kit (runMixerConformance) works without it,
// so it is loaded here, once, and only describeMixerConformance needs it.
const vitest: typeof import('vitest') | undefined = await import('vitest').catch(() => undefined);

function requireVitestRun(): typeof import('vitest') {
  if (!vitest) {
    throw new ShiftmixError(
      'describeMixerConformance registers vitest tests, and vitest is not installed',
      'Install vitest (npm install -D vitest) and call it from a test file, or print runMixerConformance(spec) from any script',
      'E_NO_VITEST',
    );
  }
  // vitest sets VITEST in the processes that run test files.
  if (!process.env.VITEST) {
    throw new ShiftmixError(
      'describeMixerConformance was called outside a vitest run',
      'Call it from a *.test.ts file run by vitest, and keep it out of the module that registers the mixer (the CLI imports that one as a plugin); runMixerConformance(spec) works anywhere',
      'E_NO_VITEST',
    );
  }
  return vitest;
}

/**
 * Registers a vitest suite with one test per conformance check of `spec`. Call it at the
 * top level of a test file (or inside a describe); give `options.title` when the same
 * mixer is checked with several configs.
 */
export function describeMixerConformance(spec: AnyMixerSpec, options: ConformanceOptions = {}): void {
  const { beforeAll, describe, expect, it } = requireVitestRun();
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
