export { formatConformanceReport, runConformanceCheck, runMixerConformance } from './conformance.js';
export { describeMixerConformance } from './vitest.js';
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
