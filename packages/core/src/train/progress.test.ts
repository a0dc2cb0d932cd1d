import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration, formatProgress, formatRate } from './progress.js';
import type { ProgressEvent } from './types.js';

const event = (step: number, extra: Partial<ProgressEvent> = {}): ProgressEvent => ({
  step,
  steps: 100,
  trainLoss: 2.5,
  lr: 1e-3,
  gradNorm: 1,
  tokensPerSecond: 12_345,
  elapsed: step,
  ...extra,
});

function recorder(isTTY: boolean, columns = 120) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns, write: (text: string) => chunks.push(text) } };
}

// The terminal's erase-to-end-of-line sequence, which ends each redrawn line.
const CLEAR_TO_END = '\x1b[K';

describe('progress bar', () => {
  it('formats rates, durations and one status line', () => {
    expect(formatRate(12_345)).toBe('12.35k');
    expect(formatRate(2_500_000)).toBe('2.50M');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m');
    const line = formatProgress(event(25, { valLoss: 2.25 }), 90, 8);
    expect(line).toBe('step  25/100 [##------] loss 2.5000 | val 2.2500 | 12.35k tok/s | ETA 1m30s');
  });

  it('rewrites one line in place on a TTY, with an ETA from the step rate', () => {
    let now = 0;
    const { chunks, stream } = recorder(true);
    const bar = createProgressBar({ stream, clock: () => now });
    bar.update(event(1));
    now = 2;
    bar.update(event(3)); // 2 steps in 2 s: 97 steps left take 97 s
    expect(chunks[1]).toMatch(/^\rstep {3}3\/100 .* ETA 1m37s.\[K$/);
    expect(chunks[1].endsWith(CLEAR_TO_END)).toBe(true);
    expect(chunks.join('')).not.toContain('\n');
    bar.done();
    expect(chunks.at(-1)).toBe('\n');
  });

  it('keeps the whole line on a terminal that reports 0 columns', () => {
    const { chunks, stream } = recorder(true, 0);
    const bar = createProgressBar({ stream, clock: () => 0 });
    bar.update(event(1, { valLoss: 2.25 }));
    expect(chunks[0]).toMatch(/^\rstep {3}1\/100 \[-+\] loss 2\.5000 \| val 2\.2500 \| 12\.35k tok\/s \| ETA \?.\[K$/);
    expect(chunks[0].endsWith(CLEAR_TO_END)).toBe(true);
  });

  it('prints plain lines off a TTY: evaluations, the last step, and at most one per period', () => {
    let now = 0;
    const { chunks, stream } = recorder(false);
    const bar = createProgressBar({ stream, clock: () => now, plainEverySeconds: 10 });
    for (let step = 1; step <= 100; step++) {
      now = step;
      bar.update(event(step, step % 50 === 0 ? { valLoss: 2 } : {}));
    }
    const lines = chunks.join('').trim().split('\n');
    // Steps 1, 11, ..., 91 by time, 50 and 100 for evaluations (100 is also the last).
    expect(lines.map((l) => Number(/step +(\d+)/.exec(l)![1]))).toEqual([1, 11, 21, 31, 41, 50, 60, 70, 80, 90, 100]);
    expect(lines.every((l) => !l.includes('\r'))).toBe(true);
  });
});
