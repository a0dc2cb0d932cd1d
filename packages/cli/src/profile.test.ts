import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir } from './test-helpers.js';

describe('shiftmix profile', () => {
  it('times one training step per kernel on wasm, shares summing to one', async () => {
    const result = await runCli(
      ['profile', '--layers', 'hsm-ab*2', '--dim', '16', '--heads', '2', '--ctx', '8', '--batch', '2', '--backend', 'wasm', '--json'],
      tempDir(),
    );
    expect(result.code, result.stderr).toBe(0);
    const profile = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(profile.source).toBe('cpu-wall');
    const names = profile.kernels.map((k: { name: string }) => k.name);
    expect(names).toContain('BatchMatMul');
    const shares = profile.kernels.reduce((sum: number, k: { share: number }) => sum + k.share, 0);
    expect(shares).toBeCloseTo(1, 5);
  });

  it('profiles the trainer step on webgpu: one fused AdamW call updates every weight', async () => {
    const args = [
      'profile',
      '--layers',
      'hsm-ab,softmax-attention',
      '--dim',
      '16',
      '--heads',
      '2',
      '--ctx',
      '8',
      '--batch',
      '2',
      '--dropout',
      '0.2',
      '--backend',
      'webgpu',
      '--json',
    ];
    const result = await runCli(args, tempDir());
    expect(result.code, result.stderr).toBe(0);
    const profile = JSON.parse(result.stdout.trim().split('\n').pop()!);
    const calls = (name: string) => profile.kernels.find((k: { name: string }) => k.name === name)?.calls;
    expect(calls('ShiftmixAdamW')).toBe(1);
    expect(calls('ShiftmixDropout')).toBeGreaterThan(0);
  });

  it('refuses a malformed layer pattern before building anything', async () => {
    expectOneLineError(await runCli(['profile', '--layers', 'hsm-ab**2'], tempDir()), 1, /the count "\*2" in "hsm-ab\*\*2"/);
  });
});
