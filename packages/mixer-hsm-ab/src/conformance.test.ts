import { describeMixerConformance } from '@shiftmix/core/testing';
import { hsmAbSpec } from './index.js';

describeMixerConformance(hsmAbSpec);
describeMixerConformance(hsmAbSpec, { config: { projections: true } });
describeMixerConformance(hsmAbSpec, { title: 'doubling schedule', schedule: 'doubling', shifts: [4] });
describeMixerConformance(hsmAbSpec, {
  title: 'radix over 3 layers, context 16',
  config: { projections: true },
  contextLength: 16,
  batch: 1,
  schedule: 'radix',
  stackLayers: 3,
  shifts: [4, 8],
});
describeMixerConformance(hsmAbSpec, {
  title: 'shifts beyond the sequence',
  contextLength: 6,
  shifts: [2, 9, 40],
  schedule: [[1], [2, 7], [4, 30]],
  checks: ['shapes', 'causality', 'receptive-field', 'decode', 'gradients'],
});
