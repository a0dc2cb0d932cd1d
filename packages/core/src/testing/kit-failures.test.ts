import { describe, expect, it } from 'vitest';
import { groupShift } from '../kernels/index.js';
import type { Mixer, MixerContext, MixerSpec, MixerState } from '../contract.js';
import { shiftTime } from '../layers.js';
import { createShiftRing, readShiftRing, writeShiftRing } from '../ops/shift.js';
import { tf, type Tensor2D, type Tensor3D, type Variable } from '../tf.js';
import { runMixerConformance, type ConformanceReport } from './index.js';

/**
 * Deliberately broken mixers: each must fail exactly the check that guards against its
 * defect, which shows the kit can fail. All compute y = u * w + S(u) (+ their defect).
 */
interface Defects {
  /** forward adds the next token's input (a leak from the future). */
  lookahead?: boolean;
  /** The hand-written gradient of w is twice the true one. */
  wrongGradient?: boolean;
  /** A random bias that is not listed in `weights`, so a checkpoint loses it. */
  hiddenBias?: boolean;
  /** paramCount forgets the weight. */
  miscount?: boolean;
  /** step() leaves an intermediate tensor behind on every token. */
  leakyStep?: boolean;
  /** Ignores the shifts the stack assigns and always looks one step back. */
  shortSighted?: boolean;
  /** forward returns NaN everywhere (and, with lookahead, still reads the future). */
  nanOutput?: boolean;
}

function brokenSpec(name: string, defects: Defects): MixerSpec<Record<string, never>> {
  return {
    specificationVersion: 1,
    name,
    description: 'a deliberately broken mixer',
    shiftBased: true,
    defaults: {},
    validate: () => ({}),
    paramCount: (ctx: MixerContext) => (defects.miscount ? 0 : ctx.dim),
    create(ctx: MixerContext): Mixer {
      const shifts = defects.shortSighted ? [1] : ctx.shifts;
      const w: Variable = tf.variable(tf.randomNormal([ctx.dim], 1, 0.1, 'float32', ctx.rng.seed()));
      const bias = tf.keep(defects.hiddenBias ? tf.randomNormal([ctx.dim], 0, 1, 'float32', ctx.rng.seed()) : tf.zeros([ctx.dim]));
      const scale = defects.wrongGradient
        ? tf.customGrad(((x: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
            save([x, v]);
            return { value: tf.mul(x, v), gradFunc: (dy: tf.Tensor, [sx, sv]: tf.Tensor[]) => [tf.mul(dy, sv), tf.mul(tf.sum(tf.mul(dy, sx), [0, 1]), 2)] };
          }) as unknown as Parameters<typeof tf.customGrad>[0])
        : (x: tf.Tensor, v: tf.Tensor) => tf.mul(x, v);
      return {
        weights: { w },
        forward: (u: Tensor3D) =>
          tf.tidy(() => {
            const y = tf.add(tf.add(scale(u, w), bias), groupShift(u, shifts)) as Tensor3D;
            const out = defects.lookahead ? tf.add(y, tf.reverse(shiftTime(tf.reverse(u, 1), 1), 1)) : y;
            return (defects.nanOutput ? tf.mul(out, NaN) : out) as Tensor3D;
          }),
        initState: (batch: number): MixerState => ({ position: 0, tensors: { ring: createShiftRing(batch, ctx.dim, shifts) } }),
        step: (u: Tensor2D, state: MixerState) => {
          const ring = state.tensors.ring as Tensor3D;
          const y = tf.tidy(() => tf.add(tf.add(tf.mul(u, w), bias), readShiftRing(ring, shifts)) as Tensor2D);
          if (defects.leakyStep) tf.mul(u, 2);
          return { y, state: { position: state.position + 1, tensors: { ring: writeShiftRing(ring, u) } } };
        },
        dispose: () => tf.dispose([w, bias]),
      };
    },
  };
}

function failedChecks(report: ConformanceReport): string[] {
  return report.checks.filter((c) => !c.passed).map((c) => c.name);
}

describe('the conformance kit fails broken mixers', () => {
  it('passes the same mixer without defects (control)', async () => {
    const report = await runMixerConformance(brokenSpec('plain-scale', {}));
    expect(failedChecks(report)).toEqual([]);
  });

  it('flags a mixer that reads the next token', async () => {
    const report = await runMixerConformance(brokenSpec('lookahead', { lookahead: true }));
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual(['causality', 'decode']);
    const causality = report.checks.find((c) => c.name === 'causality');
    expect(causality?.message).toMatch(/not causal: changing tokens 1\.\.7 changed the output at position 0/);
  });

  it('flags a wrong hand-written gradient', async () => {
    const report = await runMixerConformance(brokenSpec('wrong-gradient', { wrongGradient: true }));
    expect(failedChecks(report)).toEqual(['gradients']);
    expect(report.checks.find((c) => c.name === 'gradients')?.message).toMatch(/^4 of 8 sampled gradient entries disagree: w\[/);
  });

  it('flags state that a checkpoint does not carry', async () => {
    const report = await runMixerConformance(brokenSpec('hidden-bias', { hiddenBias: true }));
    expect(failedChecks(report)).toEqual(['checkpoint']);
  });

  it('flags a step that leaks tensors', async () => {
    const report = await runMixerConformance(brokenSpec('leaky', { leakyStep: true }), { checks: ['decode'] });
    expect(report.checks[0].message).toMatch(/^step leaks 1 tensor\(s\) per token/);
  });

  it('flags a paramCount that disagrees with the weights', async () => {
    const report = await runMixerConformance(brokenSpec('miscount', { miscount: true }), { checks: ['shapes'] });
    expect(report.checks[0].message).toMatch(/paramCount says 0 but the mixer's trainable weights hold 8/);
  });

  it('flags a shift-based mixer whose stack cannot reach the whole context', async () => {
    const report = await runMixerConformance(brokenSpec('short-sighted', { shortSighted: true }));
    expect(failedChecks(report)).toEqual(['receptive-field']);
    expect(report.checks.find((c) => c.name === 'receptive-field')?.message).toMatch(/does not depend on input position\(s\) 0, 1, 2, 3, 4$/);
  });

  it('fails causality on a NaN output instead of passing it ("max change NaN")', async () => {
    const report = await runMixerConformance(brokenSpec('nan-out', { nanOutput: true, lookahead: true }), { checks: ['causality'] });
    expect(report.passed).toBe(false);
    expect(report.checks[0].message).toBe('forward returned non-finite values, so causality cannot be checked');
  });

  it('fails every check of a spec the registry refuses', async () => {
    const report = await runMixerConformance(brokenSpec('My_Mixer', {}));
    expect(report.passed).toBe(false);
    for (const check of report.checks) expect(check.message).toMatch(/^registerMixer refuses this spec: mixer "My_Mixer" has an invalid name/);
  });
});
