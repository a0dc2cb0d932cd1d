import { beforeAll, describe, expect, it } from 'vitest';
import { groupShift } from '../kernels/index.js';
import { selectBackend } from '../backend.js';
import { channelGroups } from '../schedule.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import { checkShifts, createShiftRing, readShiftRing, writeShiftRing } from './shift.js';

/** Naive per-group shift over nested arrays: channel group g delayed by shifts[g], zeros before the start. */
function naiveGroupShift(x: number[][][], shifts: number[]): number[][][] {
  const d = x[0][0].length;
  const groupOf: number[] = [];
  channelGroups(d, shifts.length).forEach(({ start, size }, g) => {
    for (let c = start; c < start + size; c++) groupOf[c] = g;
  });
  return x.map((seq) => seq.map((_, t) => seq[t].map((_v, c) => (t - shifts[groupOf[c]] >= 0 ? seq[t - shifts[groupOf[c]]][c] : 0))));
}

function maxAbsDiff(a: number[][][] | number[][], b: number[][][] | number[][]): number {
  const fa = (a as unknown[]).flat(2) as number[];
  const fb = (b as unknown[]).flat(2) as number[];
  expect(fa.length).toBe(fb.length);
  return Math.max(0, ...fa.map((v, i) => Math.abs(v - fb[i])));
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('groupShift', () => {
  const cases: [string, number, number, number, number[]][] = [
    ['one group', 2, 6, 4, [2]],
    ['uneven groups', 2, 7, 5, [1, 2, 4]],
    ['shift beyond T', 1, 4, 3, [1, 9]],
    ['one channel per group', 1, 5, 3, [3, 1, 2]],
  ];
  for (const [label, b, t, d, shifts] of cases) {
    it(`matches the naive loop: ${label}`, () => {
      const x = tf.randomNormal([b, t, d], 0, 1, 'float32', 7) as Tensor3D;
      const got = groupShift(x, shifts).arraySync();
      expect(maxAbsDiff(got, naiveGroupShift(x.arraySync(), shifts))).toBe(0);
      x.dispose();
    });
  }

  it('leaves no intermediate tensors behind', () => {
    const x = tf.ones([1, 4, 6]) as Tensor3D;
    const before = tf.memory().numTensors;
    const y = groupShift(x, [1, 2, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
  });
});

describe('shift ring', () => {
  it('reads S(u) at every position like the full-sequence shift', () => {
    const shifts = [1, 3, 6];
    const [b, t, d] = [2, 8, 7];
    const x = tf.randomNormal([b, t, d], 0, 1, 'float32', 3) as Tensor3D;
    const full = groupShift(x, shifts).arraySync();
    let ring = createShiftRing(b, d, shifts);
    expect(ring.shape).toEqual([b, 6, d]);
    for (let pos = 0; pos < t; pos++) {
      const u = x.slice([0, pos, 0], [b, 1, d]).reshape([b, d]) as Tensor2D;
      const read = readShiftRing(ring, shifts).arraySync();
      expect(
        maxAbsDiff(
          read,
          full.map((seq) => seq[pos]),
        ),
      ).toBe(0);
      const next = writeShiftRing(ring, u);
      // The old ring stays valid: a step never disposes the state it was given.
      expect(ring.isDisposed).toBe(false);
      tf.dispose([ring, u]);
      ring = next;
    }
    tf.dispose([ring, x]);
  });

  it('handles a ring of one row', () => {
    let ring = createShiftRing(1, 2, [1]);
    const u = tf.tensor2d([[5, 6]]);
    const next = writeShiftRing(ring, u);
    expect(readShiftRing(next, [1]).arraySync()).toEqual([[5, 6]]);
    tf.dispose([ring, u]);
    ring = next;
    ring.dispose();
  });
});

describe('checkShifts', () => {
  it('rejects missing, non-integer and too many shifts', () => {
    expect(() => checkShifts([], 4)).toThrow(/without shifts/);
    expect(() => checkShifts([1.5], 4)).toThrow(/whole numbers/);
    expect(() => checkShifts([0], 4)).toThrow(/whole numbers/);
    expect(() => checkShifts([1, 2, 3], 2)).toThrow(/only D=2/);
    expect(() => checkShifts([1, 100], 4)).not.toThrow();
  });
});
