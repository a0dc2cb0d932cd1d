import { tf } from '@shiftmix/core';
import { GROUP_SHIFT, GROUP_SHIFT_GRAD, listKernels } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import './index.js';

// core's kernel objects are the one list of fused kernels; this package implements all of
// them but the group shift (webgpu runs its composite), forward and backward, and nothing else.
describe('the webgpu kernels', () => {
  it("are core's kernel objects, but the group shift", () => {
    const expected = listKernels()
      .map((k) => k.name)
      .filter((name) => name.startsWith('Shiftmix') && name !== GROUP_SHIFT.name && name !== GROUP_SHIFT_GRAD.name);
    const registered = tf
      .getKernelsForBackend('webgpu')
      .map((k) => k.kernelName)
      .filter((n) => n.startsWith('Shiftmix'));
    expect(new Set(registered)).toEqual(new Set(expected));
    expect(expected.length).toBeGreaterThanOrEqual(17);
  });
});
