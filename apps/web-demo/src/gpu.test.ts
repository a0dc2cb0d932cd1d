import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter, probeAdapter, softwareFallbackReason, type GpuAdapterLike } from './gpu.js';

function fake(info: GpuAdapterLike['info'], extra: Partial<GpuAdapterLike> = {}): GpuAdapterLike {
  return { info, features: new Set(), limits: {}, requestDevice: async () => ({}), ...extra };
}

// What Chromium reports: headless without a GPU, a discrete and an integrated GPU, Mesa.
const swiftshader = fake({ vendor: 'google', architecture: 'swiftshader', description: '' });
const nvidia = fake({ vendor: 'nvidia', architecture: 'ada', device: '', description: 'NVIDIA GeForce RTX 4070' });
const intel = fake({ vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' });

function scope(gpu: unknown, isSecureContext = true) {
  return { navigator: { gpu } as unknown as Navigator, isSecureContext };
}

describe('isSoftwareAdapter', () => {
  it('names software implementations in any info field', () => {
    expect(isSoftwareAdapter(swiftshader)?.reason).toBe('swiftshader in its name');
    expect(isSoftwareAdapter(fake({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))?.reason).toBe('llvmpipe in its name');
    expect(isSoftwareAdapter(fake({ vendor: 'mesa', device: 'lavapipe' }))?.reason).toMatch(/lavapipe/);
    expect(isSoftwareAdapter(fake({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }))?.reason).toMatch(/basic render driver/);
    expect(isSoftwareAdapter(fake({ vendor: 'acme', description: 'Acme Software Rasterizer' }))?.reason).toBe('software in its name');
    expect(isSoftwareAdapter(fake({ vendor: 'acme', architecture: 'cpu' }))?.reason).toBe('cpu in its name');
  });

  it('takes the fallback flag, on info or on the adapter', () => {
    expect(isSoftwareAdapter(fake({ vendor: 'acme', isFallbackAdapter: true }))?.reason).toBe('marked as a fallback adapter');
    expect(isSoftwareAdapter(fake({ vendor: 'acme' }, { isFallbackAdapter: true }))?.reason).toBe('marked as a fallback adapter');
  });

  it('leaves hardware adapters alone', () => {
    expect(isSoftwareAdapter(nvidia)).toBeNull();
    expect(isSoftwareAdapter(intel)).toBeNull();
    expect(isSoftwareAdapter(fake({ vendor: 'apple', architecture: 'metal-3', isFallbackAdapter: false }))).toBeNull();
    // A name that merely contains the letters is not a software adapter.
    expect(isSoftwareAdapter(fake({ vendor: 'qualcomm', description: 'Adreno (TM) 740 cpuless' }))).toBeNull();
    expect(isSoftwareAdapter(fake(undefined))).toBeNull();
  });

  it('says why auto passed over it', () => {
    expect(softwareFallbackReason('google swiftshader')).toBe('the only WebGPU adapter is a software one (google swiftshader), slower than wasm here');
  });
});

describe('probeAdapter', () => {
  it('reports the adapter it gets, and whether it is software', async () => {
    expect(await probeAdapter(scope({ requestAdapter: async () => nvidia }))).toMatchObject({
      ok: true,
      label: 'nvidia ada NVIDIA GeForce RTX 4070',
      software: null,
    });
    expect(await probeAdapter(scope({ requestAdapter: async () => swiftshader }))).toMatchObject({
      ok: true,
      label: 'google swiftshader',
      software: { reason: expect.stringMatching(/swiftshader/) },
    });
  });

  it('prefers a hardware adapter offered at low power over a software one', async () => {
    const gpu = { requestAdapter: async (o?: { powerPreference?: string }) => (o?.powerPreference === 'low-power' ? intel : swiftshader) };
    expect(await probeAdapter(scope(gpu))).toMatchObject({ ok: true, adapter: intel, software: null });
    const failing = {
      requestAdapter: async (o?: { powerPreference?: string }) => (o?.powerPreference === 'low-power' ? Promise.reject(new Error('x')) : swiftshader),
    };
    expect(await probeAdapter(scope(failing))).toMatchObject({ ok: true, adapter: swiftshader, software: { reason: expect.any(String) } });
  });

  it('says why there is no WebGPU', async () => {
    expect(await probeAdapter(scope(undefined))).toMatchObject({ ok: false, reason: expect.stringMatching(/navigator.gpu is missing/) });
    expect(await probeAdapter(scope(undefined, false))).toMatchObject({ ok: false, reason: expect.stringMatching(/secure page/) });
    expect(await probeAdapter(scope({ requestAdapter: async () => null }))).toMatchObject({ ok: false, reason: expect.stringMatching(/returned null/) });
    const failing = { requestAdapter: async () => Promise.reject(new Error('driver lost')) };
    expect(await probeAdapter(scope(failing))).toMatchObject({ ok: false, reason: expect.stringMatching(/driver lost/) });
  });
});
