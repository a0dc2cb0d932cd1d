import { activeBackend, selectBackend, tf } from '@shiftmix/core';
import { listKernels } from '@shiftmix/core/kernels';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.js';

// core's kernel objects are the one list of fused kernels: this package implements every
// one of core's under wasm, forward and backward, and says so through the backend's data.
describe('the native kernels under wasm', () => {
  it("are core's kernel objects, each with its gradient, and the backend lists them", async () => {
    const info = await selectBackend('wasm');
    expect(loadNative().reason).toBeUndefined();
    expect(info.kernels).toMatch(/^native, \w+/);
    const core = listKernels().filter((k) => k.name.startsWith('Shiftmix'));
    const implemented = core.filter((k) => k.implementedOn('wasm')).map((k) => k.name);
    expect(implemented.sort()).toEqual(core.map((k) => k.name).sort());
    expect([...(info.fused ?? [])].sort()).toEqual(implemented);
    // A forward kernel's gradient dispatches to its backward kernel on the same backend.
    const forward = core.filter((k) => !k.name.endsWith('Grad') && k.name !== 'ShiftmixAdamW' && k.name !== 'ShiftmixDropout');
    for (const k of forward) expect(tf.getGradient(k.name), k.name).toBeDefined();
  });

  it('gives data-parallel training the pool to size, through the backend', async () => {
    await selectBackend('wasm');
    const threads = activeBackend().threads!;
    const before = threads.get();
    threads.set(1);
    expect(loadNative().kernels!.info()).toMatchObject({ poolThreads: 1 });
    threads.set(before);
    expect(threads.get()).toBe(before);
  });
});
