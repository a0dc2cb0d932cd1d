import { useBackend } from '@shiftmix/core/testing';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { beforeAll, describe, expect, it } from 'vitest';
import { allChecks, runCheck } from './index.js';

// The list kernels.html and kernel-parity.mjs run, here on Mesa's software GLES adapter
// (CI installs it: no adapter is a failure, not a skip). The mixers are test-only
// imports: the package itself does not depend on them.
describe('the kernel parity checks', () => {
  useBackend('webgpu');
  beforeAll(() => {
    registerHsmAb();
    registerAttention();
  });

  it.each(allChecks().map((check) => [check.name, check] as const))('%s', async (_, check) => {
    const results = await runCheck(check);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.ok, `${r.name}: ${r.detail ?? ''} (max relative difference ${r.maxRelDiff})`).toBe(true);
  });
});
