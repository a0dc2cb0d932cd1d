import { describe, expect, it } from 'vitest';
import { bitsPerByte, bitsPerByteOf } from './bits.js';
import { formatProgress } from './progress.js';

describe('bits per byte', () => {
  it('is nats per token / ln 2 / bytes per token, in every record the trainer writes', () => {
    expect(bitsPerByte(Math.LN2 * 3.3, 3.3)).toBeCloseTo(1, 12);
    const bpb = bitsPerByteOf(3.3);
    expect(bpb.record(2, null)).toEqual({ trainBpb: 2 / Math.LN2 / 3.3, valBpb: null });
    expect(bpb.progress(2, 1.5, 1.4)).toEqual({ trainBpb: 2 / Math.LN2 / 3.3, valBpb: 1.5 / Math.LN2 / 3.3, bestValBpb: 1.4 / Math.LN2 / 3.3 });
    expect(bpb.summary(2, Number.NaN, 1.4)).toEqual({ trainBpb: 2 / Math.LN2 / 3.3, valBpb: undefined, bestValBpb: 1.4 / Math.LN2 / 3.3, bytesPerToken: 3.3 });
  });

  it('is absent where the data does not know its bytes per token, and refuses a bad value', () => {
    const none = bitsPerByteOf(undefined);
    expect(none.record(2, 1)).toEqual({});
    expect(none.summary(2, 1, 1)).toEqual({});
    expect(() => bitsPerByteOf(0)).toThrow(/bytesPerToken 0 is not a positive number/);
    expect(() => bitsPerByteOf(Number.NaN)).toThrow(/not a positive number/);
  });

  it('stands beside the validation loss in the progress line', () => {
    const event = { step: 10, steps: 100, trainLoss: 2, valLoss: 1.5, valBpb: 0.6556, lr: 1e-3, gradNorm: 1, tokensPerSecond: 1000, elapsed: 1 };
    expect(formatProgress(event, 5, 0)).toContain('val 1.5000 (0.656 bpb)');
    expect(formatProgress({ ...event, valBpb: undefined }, 5, 0)).toMatch(/val 1\.5000 \|/);
  });
});
