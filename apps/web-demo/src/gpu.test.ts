import { describe, expect, it } from 'vitest';
import { probeAdapter, type GpuAdapterLike } from './gpu.js';

const adapter: GpuAdapterLike = {
  info: { vendor: 'google', architecture: 'swiftshader', description: '' },
  features: new Set(),
  limits: {},
  requestDevice: async () => ({}),
};

function scope(gpu: unknown, isSecureContext = true) {
  return { navigator: { gpu } as unknown as Navigator, isSecureContext };
}

describe('probeAdapter', () => {
  it('reports the adapter it gets', async () => {
    expect(await probeAdapter(scope({ requestAdapter: async () => adapter }))).toMatchObject({ ok: true, label: 'google swiftshader' });
  });

  it('says why there is no WebGPU', async () => {
    expect(await probeAdapter(scope(undefined))).toMatchObject({ ok: false, reason: expect.stringMatching(/navigator.gpu is missing/) });
    expect(await probeAdapter(scope(undefined, false))).toMatchObject({ ok: false, reason: expect.stringMatching(/secure page/) });
    expect(await probeAdapter(scope({ requestAdapter: async () => null }))).toMatchObject({ ok: false, reason: expect.stringMatching(/returned null/) });
    const failing = { requestAdapter: async () => Promise.reject(new Error('driver lost')) };
    expect(await probeAdapter(scope(failing))).toMatchObject({ ok: false, reason: expect.stringMatching(/driver lost/) });
  });
});
