import { describeMixerConformance } from '@shiftmix/core/testing';
import { learnedFusionSpec } from './index.js';

for (const mode of ['gate', 'linear']) {
  describeMixerConformance(learnedFusionSpec, { config: { mode } });
  describeMixerConformance(learnedFusionSpec, {
    config: { mode },
    title: 'doubling schedule, shifts beyond the sequence',
    contextLength: 6,
    batch: 1,
    schedule: 'doubling',
    shifts: [3, 7, 20],
    checks: ['causality', 'receptive-field', 'decode', 'gradients'],
  });
}
describeMixerConformance(learnedFusionSpec, {
  title: 'radix over 3 layers, context 16',
  contextLength: 16,
  batch: 1,
  stackLayers: 3,
  shifts: [4, 8],
  checks: ['receptive-field', 'decode'],
});
