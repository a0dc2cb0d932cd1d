import { isShiftmixError, selectBackend, tf } from '@shiftmix/core';
import { HSM_AB } from '@shiftmix/core/kernels';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCandidates } from './device.js';
import { MESA_PACKAGES, describeAdapter, probeWebGpu, releaseWebGpu, requestGpuAdapter, webGpuDevice, webGpuInfo } from './index.js';

function fakeAdapter(info: Record<string, unknown>): GPUAdapter {
  return { info, features: new Set(['timestamp-query']) } as unknown as GPUAdapter;
}

describe('Dawn candidates', () => {
  it('turns robustness off only when asked, on every candidate', () => {
    const off = 'enable-dawn-features=disable_robustness';
    for (const backend of ['auto', 'opengles', 'vulkan', 'null'] as const) {
      expect(nodeCandidates({ backend }).some((c) => c.flags.includes(off))).toBe(false);
      const fast = nodeCandidates({ backend, robustness: false, dawnOptions: ['x=y'] });
      expect(fast.length).toBeGreaterThan(0);
      for (const c of fast) expect(c.flags).toEqual(expect.arrayContaining([off, 'x=y']));
    }
  });
});

describe('adapter description', () => {
  it('tells software rasterizers from hardware', () => {
    expect(
      describeAdapter(fakeAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL ES 3.2 Mesa' }), 'opengles', 'compatibility').software,
    ).toBe(true);
    expect(describeAdapter(fakeAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' }), 'vulkan', 'core').software).toBe(true);
    expect(describeAdapter(fakeAdapter({ vendor: 'nvidia', device: 'NVIDIA H100 80GB HBM3' }), 'vulkan', 'core').software).toBe(false);
    expect(describeAdapter(fakeAdapter({ vendor: 'x', device: 'y', isFallbackAdapter: true }), 'vulkan', 'core').software).toBe(true);
    expect(describeAdapter(fakeAdapter({}), 'vulkan', 'core').name).toBe('unknown adapter');
    expect(describeAdapter(fakeAdapter({ device: 'null-backend' }), 'null', 'core').software).toBe(true);
  });
});

// No adapter is a failure, not a skip: CI installs Mesa so that WebGPU really runs.
describe('the webgpu backend', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('is found by core through the provider this package registers', async () => {
    const probe = await probeWebGpu();
    expect(probe.reason).toBeUndefined();
    expect(probe.available).toBe(true);
    const info = await selectBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info).toMatchObject({ backend: 'webgpu', adapter: probe.adapter, software: probe.software });
    const report = webGpuInfo()!.report;
    expect(report.name.length).toBeGreaterThan(0);
    expect(Array.isArray(report.features)).toBe(true);
    expect(['core', 'compatibility']).toContain(report.featureLevel);
    expect(webGpuDevice()).toBeDefined();
    expect(tf.getKernel(HSM_AB.name, 'webgpu')).toBeDefined();
    const sum = await tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([10, 20, 30])).data();
    expect(Array.from(sum)).toEqual([11, 22, 33]);
  });

  it("lets selectBackend('auto') take webgpu only on a hardware adapter", async () => {
    const probe = await probeWebGpu();
    const info = await selectBackend('auto');
    expect(info.backend).toBe(probe.software ? 'wasm' : 'webgpu');
  });

  it('releases the device and starts again', async () => {
    await selectBackend('webgpu');
    const first = webGpuDevice();
    releaseWebGpu();
    expect(webGpuDevice()).toBeUndefined();
    expect(tf.getBackend()).not.toBe('webgpu');
    await selectBackend('webgpu');
    expect(webGpuDevice()).not.toBe(first);
    expect(Array.from(await tf.mul(tf.tensor1d([2]), 3).data())).toEqual([6]);
  });

  it('says what to install when the asked-for backend has no adapter', async () => {
    const wrong = process.platform === 'win32' ? 'metal' : 'd3d12';
    const error = await requestGpuAdapter({ backend: wrong }).catch((e: unknown) => e);
    expect(isShiftmixError(error)).toBe(true);
    expect((error as Error).message).toContain(wrong);
    if (process.platform === 'linux') expect((error as Error).message).toContain(MESA_PACKAGES.join(' '));
  });
});
