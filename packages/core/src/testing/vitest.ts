import type { AnyMixerSpec } from '../contract.js';
import { selectBackend, type BackendName } from '../backend.js';
import { ShiftmixError } from '../errors.js';
import { runConformanceCheck } from './conformance.js';
import { resolveOptions, type ConformanceOptions } from './harness.js';

// vitest is an optional peer: the rest of the kit (runMixerConformance) works without it,
// so it is loaded here, once, and only the functions below need it.
const vitest: typeof import('vitest') | undefined = await import('vitest').catch(() => undefined);

/** vitest, for `caller`, which registers vitest `registers` (tests, hooks); `elsewhere` says what to do outside a test file. */
function requireVitestRun(caller: string, registers: string, elsewhere: { install: string; call: string }): typeof import('vitest') {
  if (!vitest) {
    throw new ShiftmixError(`${caller} registers vitest ${registers}, and vitest is not installed`, elsewhere.install, 'E_NO_VITEST');
  }
  // vitest sets VITEST in the processes that run test files.
  if (!process.env.VITEST) {
    throw new ShiftmixError(`${caller} was called outside a vitest run`, elsewhere.call, 'E_NO_VITEST');
  }
  return vitest;
}

/**
 * Registers a vitest suite with one test per conformance check of `spec`. Call it at the
 * top level of a test file (or inside a describe); give `options.title` when the same
 * mixer is checked with several configs.
 */
export function describeMixerConformance(spec: AnyMixerSpec, options: ConformanceOptions = {}): void {
  const { beforeAll, describe, expect, it } = requireVitestRun('describeMixerConformance', 'tests', {
    install: 'Install vitest (npm install -D vitest) and call it from a test file, or print runMixerConformance(spec) from any script',
    call: 'Call it from a *.test.ts file run by vitest, and keep it out of the module that registers the mixer (the CLI imports that one as a plugin); runMixerConformance(spec) works anywhere',
  });
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

/**
 * Runs the tests of a file (or of the describe it is called in) on `backend`: selects it
 * before them, failing if another comes up, and goes back to cpu after them. No adapter is
 * a failure, not a skip: CI installs Mesa so that the fused kernels really run.
 */
export function useBackend(backend: Exclude<BackendName, 'auto'>): void {
  const { afterAll, beforeAll, expect } = requireVitestRun('useBackend', 'hooks', {
    install: 'Install vitest (npm install -D vitest) and call it from a test file',
    call: 'Call it from a *.test.ts file run by vitest, at its top level or inside a describe',
  });
  beforeAll(async () => {
    expect((await selectBackend(backend)).backend).toBe(backend);
  });
  afterAll(async () => {
    await selectBackend('cpu');
  });
}
