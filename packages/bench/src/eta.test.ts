import { describe, expect, it } from 'vitest';
import { SuiteEta } from './eta.js';
import type { RunPlan } from './tasks/types.js';

const plan = (id: string, task: RunPlan['task'], cost: number): RunPlan => ({
  id,
  benchmark: task,
  task,
  model: id,
  definition: { layers: 'hsm-ab' },
  setting: {},
  recipe: {} as RunPlan['recipe'],
  cost,
});

describe('SuiteEta.parallel', () => {
  it('counts running runs by their fraction and spreads the work left over the runs in flight', () => {
    const [a, b, c, d] = [plan('a', 'lm-char', 10), plan('b', 'lm-char', 10), plan('c', 'lm-char', 10), plan('d', 'mqar', 20)];
    const eta = new SuiteEta([a, b, c, d]);
    // Nothing finished: no rate to go by yet.
    expect(eta.parallel([{ plan: a, fraction: 0.5 }])).toEqual({ fraction: 5 / 50 });
    eta.finish(a, 20);
    // 2 s per unit of cost; lm-char has 20 left, 5 of it running; mqar borrows the overall rate.
    const { fraction, eta: seconds } = eta.parallel([
      { plan: b, fraction: 0.5 },
      { plan: d, fraction: 0 },
    ]);
    expect(fraction).toBeCloseTo(15 / 50);
    expect(seconds).toBeCloseTo(((20 - 5) * 2 + 20 * 2) / 2);
  });
});
