export { formatConformanceReport, runConformanceCheck, runMixerConformance } from './conformance.js';
export { describeMixerConformance, useBackend } from './vitest.js';
export {
  CONFORMANCE_CHECKS,
  createTestContext,
  type ConformanceCheckName,
  type ConformanceCheckResult,
  type ConformanceOptions,
  type ConformanceReport,
  type GradientCheckOptions,
  type TestContextOptions,
} from './harness.js';
// The example fused kernel: a backend package tests its way of implementing kernels on it.
export { EXAMPLE_SCALE, EXAMPLE_SCALE_GRAD, exampleScale, exampleScaleReference } from '../kernels/fixtures/example-scale.js';
// A tokenizer.json of a user's own, made in tests.
export { byteLevelBpeJson } from './bpe-json.js';
