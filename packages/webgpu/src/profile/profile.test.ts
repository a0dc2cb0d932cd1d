import { causalAttention, tf, type Tensor } from '@shiftmix/core';
import { ATTENTION } from '@shiftmix/core/kernels';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { webGpuInfo } from '../backend.js';
import '../kernels.js';
import { normal } from '../test-utils.js';
import { formatProfile, profileStep } from './index.js';

useBackend('webgpu');

describe('profileStep', () => {
  it('attributes the kernels of a training-like step and disposes what it returns', async () => {
    const x = normal([2, 16, 8], 1);
    const w = tf.variable(normal([8, 8], 2));
    const step = () =>
      tf.variableGrads(() => {
        const h = tf.matMul(x.reshape([32, 8]), w).reshape([2, 1, 16, 8]) as Tensor;
        return tf.sum(causalAttention(h, h, h, { training: true })) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const profile = await profileStep(() => {
      const { value, grads } = step();
      return [value, ...Object.values(grads)];
    });
    expect(tf.memory().numTensors).toBe(before);
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('BatchMatMul');
    expect(names).toContain(ATTENTION.name);
    expect(names).toContain('ShiftmixAttentionGrad');
    const attention = profile.kernels.find((k) => k.name === ATTENTION.name)!;
    expect(attention.calls).toBe(1);
    const shares = profile.kernels.reduce((sum, k) => sum + k.share, 0);
    expect(shares).toBeCloseTo(1, 6);
    const timestamps = webGpuInfo()!.report.features.includes('timestamp-query');
    expect(profile.source).toBe(timestamps ? 'timestamp-query' : 'none');
    const table = formatProfile(profile, 3);
    expect(table.split('\n')).toHaveLength(2 + 3 + 1);
    expect(table).toContain(profile.kernels[0].name);
    tf.dispose([x, w]);
  });
});
