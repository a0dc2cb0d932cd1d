import { describe, expect, it } from 'vitest';
import { formatEvent } from './progress.js';
import type { RunPlan } from './tasks/types.js';

const plan: RunPlan = {
  id: 'lm--gpt',
  benchmark: 'lm',
  task: 'lm-char',
  model: 'gpt',
  definition: { layers: 'softmax-attention' },
  setting: {},
  recipe: {} as RunPlan['recipe'],
  cost: 1,
};

describe('progress lines of a queued suite', () => {
  it('say which run started where, which failed and why, and how far the queue is', () => {
    expect(formatEvent({ type: 'run-start', plan, index: 1, total: 6, where: 'gpu-2#4242' })).toBe('[2/6] lm gpt  started on gpu-2#4242');
    expect(formatEvent({ type: 'run-start', plan, index: 1, total: 6 })).toBeUndefined();
    expect(formatEvent({ type: 'run-fail', plan, index: 1, total: 6, error: 'training diverged at step 3: the loss is NaN' })).toBe(
      '[2/6] lm--gpt failed: training diverged at step 3: the loss is NaN',
    );
    const running = [{ plan, index: 1, where: 'gpu-2#4242', tick: { step: 40, steps: 200, loss: 2.5 }, runEta: 75 }];
    expect(formatEvent({ type: 'queue-progress', done: 3, failed: 1, waiting: 1, total: 6, running, suiteFraction: 0.55, suiteEta: 130 })).toBe(
      'queue: 3/6 done, 1 failed, 1 waiting; running lm gpt on gpu-2#4242 step 40/200 loss 2.500 ETA 1:15  | suite 55% ETA 2:10',
    );
    expect(formatEvent({ type: 'queue-progress', done: 0, failed: 0, waiting: 6, total: 6, running: [], suiteFraction: 0 })).toBe(
      'queue: 0/6 done, 6 waiting  | suite 0%',
    );
  });
});
