import { describe, expect, it } from 'vitest';
import { geometry, ticks, HEIGHT, WIDTH, type Line } from './chart.js';
import { lossLines } from './train/lines.js';
import type { TrainPoint } from './train/protocol.js';

const point = (step: number, trainLoss: number, valLoss?: number): TrainPoint => ({
  step,
  seconds: step / 10,
  trainLoss,
  tokensPerSecond: 100,
  ...(valLoss === undefined ? {} : { valLoss }),
});

const losses = (runs: { label: string; color: string; points: TrainPoint[] }[], x: 'step' | 'seconds'): Line[] => runs.flatMap((r) => lossLines(r, x));

// The coordinates of a path's points, in order.
const coords = (d: string) => [...d.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('the loss chart', () => {
  it('draws a training and a validation path per series, every point inside the plot', () => {
    const g = geometry(
      losses(
        [
          { label: 'gpt', color: 'red', points: [point(1, 4.2), point(2, 3.9, 3.95), point(3, 3.1), point(4, 2.5, 2.7)] },
          { label: 'hsm', color: 'blue', points: [point(1, 4.1), point(2, 3.0, 3.2)] },
        ],
        'step',
      ),
    );
    expect(g.paths.map((p) => [p.label, p.kind, p.count])).toEqual([
      ['gpt', 'train', 4],
      ['gpt', 'val', 2],
      ['hsm', 'train', 2],
      ['hsm', 'val', 1],
    ]);
    for (const p of g.paths) {
      for (const [x, y] of coords(p.d)) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(WIDTH);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(HEIGHT);
      }
    }
    // A lower loss is drawn lower down (SVG's y grows downwards), a later step further right.
    const train = coords(g.paths[0].d);
    expect(train.map(([x]) => x)).toEqual([...train.map(([x]) => x)].sort((a, b) => a - b));
    expect(train[3][1]).toBeGreaterThan(train[0][1]);
  });

  it('puts the same points at other x positions against seconds, and skips a loss that is not finite', () => {
    const points = [point(10, 3), point(20, NaN), point(40, 2)];
    points[2].seconds = 1;
    points[0].seconds = 0.9;
    const bySteps = coords(geometry(losses([{ label: 'a', color: 'red', points }], 'step')).paths[0].d);
    const bySeconds = coords(geometry(losses([{ label: 'a', color: 'red', points }], 'seconds')).paths[0].d);
    expect(bySteps).toHaveLength(2);
    expect(bySeconds).toHaveLength(2);
    expect(bySeconds[0][0]).toBeGreaterThan(bySteps[0][0]);
  });

  it('spaces ticks at 1, 2 or 5 times a power of ten', () => {
    expect(ticks(0, 300)).toEqual([0, 100, 200, 300]);
    expect(ticks(1.4, 4.3)).toEqual([2, 3, 4]);
    expect(ticks(1.4, 2.6)).toEqual([1.5, 2, 2.5]);
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});
