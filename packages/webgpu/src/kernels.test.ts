import { tf } from '@shiftmix/core';
import { FUSED_KERNELS, GROUP_SHIFT_KERNEL } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import './index.js';

// core's table is the one list of fused kernels; this package implements all of them but
// the group shift (webgpu runs its composite), forward and backward, and nothing else.
describe('the webgpu kernels', () => {
  it("are those of core's table, but the group shift", () => {
    const implemented = FUSED_KERNELS.filter((k) => k.name !== GROUP_SHIFT_KERNEL);
    const listed = new Set(implemented.flatMap((k) => [k.name, ...(k.gradient ? [k.gradient] : [])]));
    const registered = tf
      .getKernelsForBackend('webgpu')
      .map((k) => k.kernelName)
      .filter((n) => n.startsWith('Shiftmix'));
    expect(new Set(registered)).toEqual(listed);
  });
});
