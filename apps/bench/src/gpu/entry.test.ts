import { isShiftmixError } from '@shiftmix/core';
import type { AdapterReport } from '@shiftmix/webgpu';
import { describe, expect, it, vi } from 'vitest';
import { parseEntryFlags, refuseSoftwareAdapter } from './entry.js';

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

describe('parseEntryFlags', () => {
  const options = { steps: { type: 'string', default: '20' }, pipeline: { type: 'boolean', default: false } } as const;

  it('returns the values of known flags', () => {
    const argv = process.argv;
    process.argv = [argv[0], 'bench.js', '--steps', '5', '--pipeline'];
    try {
      expect(parseEntryFlags(options, 'usage')).toEqual({ steps: '5', pipeline: true });
    } finally {
      process.argv = argv;
    }
  });

  it('stops at an unknown flag with the message and the usage, exit code 2', () => {
    const argv = process.argv;
    process.argv = [argv[0], 'bench.js', '--stpes', '5'];
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const printed: string[] = [];
    const stderr = vi.spyOn(console, 'error').mockImplementation((text: string) => void printed.push(text));
    try {
      expect(() => parseEntryFlags(options, 'USAGE: bench.js [--steps N]')).toThrow('exit 2');
      expect(printed.join('\n')).toMatch(/^error: Unknown option '--stpes'[\s\S]*USAGE: bench.js \[--steps N\]/);
    } finally {
      process.argv = argv;
      exit.mockRestore();
      stderr.mockRestore();
    }
  });
});
