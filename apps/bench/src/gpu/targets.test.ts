import { describe, expect, it } from 'vitest';
import type { AttentionResult } from './attention-bench.js';
import type { MatMulResult } from './matmul-bench.js';
import { evaluateTargets, formatTargets, type KernelsReport, type StepsReport } from './targets.js';

const matmul = (impl: string, tflops: number): MatMulResult => ({ label: '4096^3', m: 4096, n: 4096, k: 4096, impl, ms: 1, enqueueMs: 0, tflops });
const attention = (length: number, fusedStepMs: number, compositeStepMs: number, gpu?: [number, number]): AttentionResult => ({
  batch: 4,
  heads: 6,
  headDim: 64,
  length,
  fusedForwardMs: 1,
  fusedStepMs,
  compositeStepMs,
  fusedStepGpuMs: gpu?.[0],
  compositeStepGpuMs: gpu?.[1],
  forwardTflops: 1,
  stepTflops: 1,
});

describe('evaluateTargets', () => {
  it('judges each target from the rows that measure it', () => {
    const kernels: KernelsReport = {
      adapter: { name: 'NVIDIA H100' },
      matmul: [matmul('tfjs', 23.7), matmul('shiftmix', 31.2)],
      attention: [attention(1024, 1, 9), attention(2048, 10, 35, [10, 21])],
    };
    const steps: StepsReport = {
      results: [
        { model: 'gpt', medianMs: 50, tokensPerSecond: 327_680, pytorchMs: 33.5 },
        { model: 'hsm-ab', medianMs: 30, tokensPerSecond: 546_133, pytorchMs: 30.6 },
      ],
    };
    const rows = evaluateTargets(kernels, steps);
    expect(rows.map((r) => r.met)).toEqual([true, false, true, false, true, true]);
    // Attention is judged by GPU time when both paths have it: 21 / 10 = 2.1x, not 3.5x wall.
    expect(rows[1].measured).toMatch(/^2\.10x by GPU time \(3\.50x wall\)/);
    expect(rows[0].measured).toContain('tfjs-webgpu 23.7');
    expect(rows[2].measured).toMatch(/^0\.670x/);
    const table = formatTargets(rows, kernels, steps);
    expect(table.split('\n')).toHaveLength(4 + rows.length);
    expect(table).toContain('| fp32 matmul 4096^3 | >= 30 TFLOP/s | 31.2 TFLOP/s (tfjs-webgpu 23.7 in the same run) | met |');
  });

  it('says what was not measured instead of guessing', () => {
    const rows = evaluateTargets({ attention: [attention(2048, 1, 9)] }, { results: [{ model: 'gpt', medianMs: 5, tokensPerSecond: 1 }] });
    expect(rows[0]).toMatchObject({ measured: 'not measured', met: undefined });
    expect(rows[1]).toMatchObject({ measured: '9.00x by wall clock', met: true });
    expect(rows[2]).toMatchObject({ measured: 'not the standard shape', met: undefined });
    expect(rows[4]).toMatchObject({ measured: 'not measured', met: undefined });
    expect(formatTargets(rows, { adapter: { name: 'llvmpipe', software: true } })).toContain('software adapter: not a GPU measurement');
  });
});
