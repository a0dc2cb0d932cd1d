import { describe, expect, it } from 'vitest';
import { groupShift } from '../kernels/index.js';
import type { Mixer, MixerContext, MixerSpec, MixerState } from '../contract.js';
import { createShiftRing, readShiftRing, writeShiftRing } from '../ops/shift.js';
import { tf, type Tensor2D, type Tensor3D, type Variable } from '../tf.js';
import { runMixerConformance } from './index.js';

/**
 * A correct local mixer that is not shift-based: y_t = w * (u_t + u_{t-1} + u_{t-2}), so
 * the output at t sees a window of 3 positions and never more, however deep the stack.
 */
const windowOfThree: MixerSpec<Record<string, never>> = {
  specificationVersion: 1,
  name: 'window-of-three',
  description: 'sums the last three inputs',
  shiftBased: false,
  defaults: {},
  validate: () => ({}),
  paramCount: (ctx: MixerContext) => ctx.dim,
  create(ctx: MixerContext): Mixer {
    const w: Variable = tf.variable(tf.randomNormal([ctx.dim], 1, 0.1, 'float32', ctx.rng.seed()));
    return {
      weights: { w },
      forward: (u: Tensor3D) => tf.tidy(() => tf.mul(tf.addN([u, groupShift(u, [1]), groupShift(u, [2])]), w) as Tensor3D),
      initState: (batch: number): MixerState => ({ position: 0, tensors: { ring: createShiftRing(batch, ctx.dim, [2]) } }),
      step(u: Tensor2D, state: MixerState) {
        const ring = state.tensors.ring as Tensor3D;
        const y = tf.tidy(() => tf.mul(tf.addN([u, readShiftRing(ring, [1]), readShiftRing(ring, [2])]), w) as Tensor2D);
        return { y, state: { position: state.position + 1, tensors: { ring: writeShiftRing(ring, u) } } };
      },
      dispose: () => w.dispose(),
    };
  },
};

async function receptiveField(options: Parameters<typeof runMixerConformance>[1]) {
  const report = await runMixerConformance(windowOfThree, { ...options, checks: ['receptive-field'] });
  return report.checks[0];
}

describe('the receptive-field check of a mixer that is not shift-based', () => {
  it('fails a local mixer taken for a full one, and says how to declare it or skip the check', async () => {
    const check = await receptiveField({});
    expect(check.passed).toBe(false);
    expect(check.message).toMatch(/does not depend on input position\(s\) 0, 1, 2, 3, 4\. .*\{ receptiveField: WINDOW \}.*\{ skip: \["receptive-field"\] \}/);
  });

  it('passes it with its window declared, and every other check too', async () => {
    expect(await receptiveField({ receptiveField: 3 })).toMatchObject({ passed: true, message: expect.stringMatching(/input positions 5\.\.7$/) });
    const report = await runMixerConformance(windowOfThree, { receptiveField: 3 });
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
  });

  it('fails a declared window that is too small or too large for what the mixer sees', async () => {
    const small = await receptiveField({ receptiveField: 2 });
    expect(small.message).toMatch(/depends on input position\(s\) 5, outside that window\. Declare a larger receptiveField/);
    const large = await receptiveField({ receptiveField: 5 });
    expect(large.message).toMatch(/receptive field of 5 position\(s\).*does not depend on input position\(s\) 3, 4\./);
  });

  it('rejects a window that is not a positive whole number', async () => {
    expect((await receptiveField({ receptiveField: 0 })).message).toMatch(/receptiveField is 0; give "full" or a window/);
  });

  it('is left out with skip', async () => {
    const report = await runMixerConformance(windowOfThree, { skip: ['receptive-field'] });
    expect(report.checks.map((c) => c.name)).toEqual(['shapes', 'causality', 'decode', 'gradients', 'checkpoint']);
    expect(report.passed).toBe(true);
  });
});
