import { describeMixerConformance } from '@shiftmix/core/testing';
import { softmaxAttentionSpec } from './index.js';

describeMixerConformance(softmaxAttentionSpec);
describeMixerConformance(softmaxAttentionSpec, { config: { rope: true } });
describeMixerConformance(softmaxAttentionSpec, {
  title: 'wasm',
  backend: 'wasm',
  config: { rope: true, window: 3 },
  checks: ['shapes', 'causality', 'decode'],
});
// A window of 3 limits one layer's reach to 3 positions by design, so the kit's
// whole-context receptive-field check does not apply; mixer.test.ts checks the window's reach.
describeMixerConformance(softmaxAttentionSpec, {
  config: { window: 3 },
  checks: ['shapes', 'causality', 'decode', 'gradients', 'checkpoint'],
});
describeMixerConformance(softmaxAttentionSpec, { title: 'window covering the context', config: { window: 8, rope: true }, heads: 4 });
