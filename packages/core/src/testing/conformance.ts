import type { AnyMixerSpec } from '../contract.js';
import { selectBackend } from '../backend.js';
import { isShiftmixError } from '../errors.js';
import { checkMixerSpec } from '../registry.js';
import { tf } from '../tf.js';
import { checkCausality, checkCheckpoint, checkDecode, checkShapes, type CheckOutcome } from './checks.js';
import { checkGradients } from './gradients.js';
import {
  resolveOptions,
  type ConformanceCheckName,
  type ConformanceCheckResult,
  type ConformanceOptions,
  type ConformanceReport,
  type ResolvedOptions,
} from './harness.js';
import { checkReceptiveField } from './receptive-field.js';

const CHECKS: Record<ConformanceCheckName, (spec: AnyMixerSpec, o: ResolvedOptions) => CheckOutcome> = {
  shapes: checkShapes,
  causality: checkCausality,
  'receptive-field': checkReceptiveField,
  decode: checkDecode,
  gradients: checkGradients,
  checkpoint: checkCheckpoint,
};

/**
 * Runs one check on the active backend. Never throws for a misbehaving mixer: an error
 * inside the mixer (or its validate/create) is a failed check whose message says what
 * was thrown. Tensors created by the check are released when it returns.
 */
export function runConformanceCheck(spec: AnyMixerSpec, name: ConformanceCheckName, options: ConformanceOptions = {}): ConformanceCheckResult {
  const check = CHECKS[name];
  if (!check) {
    return { name, passed: false, message: `unknown check "${String(name)}"; checks are ${Object.keys(CHECKS).join(', ')}` };
  }
  const o = resolveOptions(options);
  tf.engine().startScope();
  try {
    // A spec the registry would refuse conforms to nothing, whatever its tensors do.
    checkMixerSpec(spec);
    return { name, ...check(spec, o) };
  } catch (error) {
    if (isShiftmixError(error) && error.code.startsWith('E_SPEC')) return { name, passed: false, message: `registerMixer refuses this spec: ${error.message}` };
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { name, passed: false, message: `the check threw ${text}` };
  } finally {
    tf.engine().endScope();
  }
}

/**
 * Runs the conformance checks (all by default) on `spec` and returns a report; selects
 * `options.backend` (cpu by default) first. Plugin authors without vitest can print it;
 * `describeMixerConformance` turns the same checks into tests.
 */
export async function runMixerConformance(spec: AnyMixerSpec, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const o = resolveOptions(options);
  await selectBackend(o.backend);
  const checks = o.checks.map((name) => runConformanceCheck(spec, name, options));
  return { mixer: spec.name, backend: tf.getBackend(), passed: checks.every((c) => c.passed), checks };
}

/** A report as readable lines, one per check. */
export function formatConformanceReport(report: ConformanceReport): string {
  const lines = report.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'}  ${c.name}: ${c.message}`);
  return [`mixer "${report.mixer}" on ${report.backend}: ${report.passed ? 'conforms' : 'does not conform'}`, ...lines].join('\n');
}
