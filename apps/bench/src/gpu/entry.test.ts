import { isShiftmixError } from '@shiftmix/core';
import type { AdapterReport } from '@shiftmix/webgpu';
import { describe, expect, it } from 'vitest';
import { refuseSoftwareAdapter } from './entry.js';

const report = (name: string, software: boolean): AdapterReport =>
  ({ name, vendor: '', architecture: '', description: '', backend: 'opengles', featureLevel: 'compatibility', features: [], software }) as AdapterReport;

describe('refuseSoftwareAdapter', () => {
  it('stops a benchmark that found only a software adapter by itself, naming the way round', () => {
    let caught: unknown;
    try {
      refuseSoftwareAdapter(report('llvmpipe', true), 'auto', '--dawn');
    } catch (error) {
      caught = error;
    }
    expect(isShiftmixError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/only WebGPU adapter is llvmpipe, a software one.*--dawn opengles/);
  });

  it('runs on hardware, and on a software adapter the user named', () => {
    expect(() => refuseSoftwareAdapter(report('NVIDIA H100', false), 'auto', '--dawn')).not.toThrow();
    expect(() => refuseSoftwareAdapter(report('llvmpipe', true), 'opengles', '--dawn')).not.toThrow();
  });
});
