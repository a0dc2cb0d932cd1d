import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { nativeStatus } from '../backends/native.js';
import { tf } from '../tf.js';
import { registerFusedGradients } from './gradients.js';
import { FUSED_KERNELS, fusedKernel } from './table.js';

// The table is the one list of fused kernels: it must agree with what is registered.
describe('FUSED_KERNELS', () => {
  it('names each kernel once and finds it by name', () => {
    const names = FUSED_KERNELS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const k of FUSED_KERNELS) expect(fusedKernel(k.name)).toBe(k);
    expect(fusedKernel('NoSuchKernel')).toBeUndefined();
  });

  it('has a registered gradient for every kernel that names a backward kernel, and a reference for all but AdamW', () => {
    registerFusedGradients();
    for (const k of FUSED_KERNELS.filter((x) => x.gradient)) expect(tf.getGradient(k.name), k.name).toBeDefined();
    expect(FUSED_KERNELS.filter((k) => !k.reference).map((k) => k.name)).toEqual(['ShiftmixAdamW']);
  });

  it('is exactly what the native kernels register under wasm, forward and backward', async () => {
    await selectBackend('wasm');
    expect(nativeStatus().reason).toBeUndefined();
    const listed = new Set(FUSED_KERNELS.flatMap((k) => [k.name, ...(k.gradient ? [k.gradient] : [])]));
    const registered = tf
      .getKernelsForBackend('wasm')
      .map((k) => k.kernelName)
      .filter((n) => n.startsWith('Shiftmix'));
    expect(new Set(registered)).toEqual(listed);
  });
});
