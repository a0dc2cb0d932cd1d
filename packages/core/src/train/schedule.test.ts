import { describe, expect, it } from 'vitest';
import { learningRate, validateSchedule } from './schedule.js';

describe('learning-rate schedule', () => {
  const s = { lr: 1e-3, minLr: 1e-4, warmup: 10, steps: 110 };

  it('warms up linearly to the peak', () => {
    expect(learningRate(1, s)).toBeCloseTo(1e-4, 12);
    expect(learningRate(5, s)).toBeCloseTo(5e-4, 12);
    expect(learningRate(10, s)).toBeCloseTo(1e-3, 12);
  });

  it('decays along a cosine to minLr and stays there', () => {
    // Halfway through the decay the cosine term is 0: the midpoint of lr and minLr.
    expect(learningRate(60, s)).toBeCloseTo(5.5e-4, 12);
    // A quarter of the way: minLr + (1 + cos(pi/4)) / 2 * (lr - minLr).
    expect(learningRate(35, s)).toBeCloseTo(1e-4 + ((1 + Math.SQRT1_2) / 2) * 9e-4, 12);
    expect(learningRate(110, s)).toBeCloseTo(1e-4, 12);
    expect(learningRate(500, s)).toBe(1e-4);
    for (let t = 11; t < 110; t++) expect(learningRate(t + 1, s)).toBeLessThan(learningRate(t, s));
  });

  it('handles no warm-up and refuses bad values', () => {
    expect(learningRate(1, { ...s, warmup: 0, steps: 100 })).toBeCloseTo(1e-4 + 0.5 * (1 + Math.cos(Math.PI / 100)) * 9e-4, 12);
    expect(() => validateSchedule({ ...s, minLr: 2e-3 })).toThrow(/minLr/);
    expect(() => validateSchedule({ ...s, lr: 0 })).toThrow(/learning rate/);
    expect(() => validateSchedule({ ...s, steps: 2.5 })).toThrow(/steps/);
  });
});
