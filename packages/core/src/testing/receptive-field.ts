import type { AnyMixerSpec, Mixer } from '../contract.js';
import { linear } from '../layers.js';
import { computeShiftSchedule } from '../schedule.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import type { CheckOutcome } from './checks.js';
import { createMixerUnderTest, randomInput, type ResolvedOptions } from './harness.js';

/** Input positions whose gradient is not exactly zero in some batch row and channel. */
function reachedPositions(grad: Tensor3D): Set<number> {
  const perPosition = tf.tidy(() => tf.max(tf.abs(grad), [0, 2]).dataSync()); // [T]
  return new Set(Array.from(perPosition.keys()).filter((t) => perPosition[t] > 0));
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

const HOW_TO_DECLARE =
  'A mixer that sees a local window by design passes { receptiveField: WINDOW } to the kit; { skip: ["receptive-field"] } leaves this check out';

/** Which positions one layer of a mixer that is not shift-based must reach, and which it must not. */
interface Reach {
  expected: number[];
  beyond: number[];
  what: string;
}

function expectedReach(o: ResolvedOptions): Reach | { invalid: string } {
  const t = o.contextLength;
  if (o.receptiveField === 'full') return { expected: range(0, t), beyond: [], what: 'one layer' };
  const w = o.receptiveField;
  if (!Number.isInteger(w) || w < 1) return { invalid: `receptiveField is ${JSON.stringify(w)}; give "full" or a window of N >= 1 positions` };
  const start = Math.max(0, t - w);
  return { expected: range(start, t), beyond: range(0, start), what: `one layer with a declared receptive field of ${w} position(s)` };
}

/**
 * Does the output at the last position depend on every input position? Measured with the
 * gradient of a random projection of y[:, T-1] with respect to the whole input.
 *
 * Shift-based mixers reach far only through depth, so they are stacked as the model
 * stacks them: n layers with the schedule's shifts and residuals. Between layers a fixed
 * random D x D map stands in for the feed-forward network: the radix schedule moves a
 * channel group by one digit per layer, and only channel mixing lets a distance combine
 * digits of different groups. Other mixers must reach everything in one layer (attention),
 * or exactly their declared window (`receptiveField: N`, a local mixer).
 */
export function checkReceptiveField(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const [b, t, d] = [o.batch, o.contextLength, o.dim];
  const local = spec.shiftBased ? undefined : expectedReach(o);
  if (local && 'invalid' in local) return { passed: false, message: local.invalid };
  const mixers: Mixer[] = [];
  try {
    let layerShifts: number[][] = [];
    if (spec.shiftBased) {
      layerShifts = computeShiftSchedule(o.schedule, o.stackLayers, t, d).shifts;
      layerShifts.forEach((shifts, i) => mixers.push(createMixerUnderTest(spec, o, { shifts, layerIndex: i, numLayers: layerShifts.length })));
    } else {
      mixers.push(createMixerUnderTest(spec, o));
    }
    const channelMix = mixers.map((_, i) => tf.randomNormal([d, d], 0, 1 / Math.sqrt(d), 'float32', o.seed * 31 + i) as Tensor2D);
    const readout = tf.randomNormal([b, d], 0, 1, 'float32', o.seed * 37);
    const input = randomInput(o, 5);
    const lastOutput = (u: tf.Tensor): tf.Scalar => {
      let x = u as Tensor3D;
      if (spec.shiftBased) {
        mixers.forEach((mixer, i) => {
          x = tf.add(x, mixer.forward(x, { training: false })) as Tensor3D;
          x = tf.add(x, linear(x, channelMix[i])) as Tensor3D;
        });
      } else {
        x = mixers[0].forward(x, { training: false });
      }
      const last = x.slice([0, t - 1, 0], [b, 1, d]).reshape([b, d]);
      return tf.sum(tf.mul(last, readout));
    };
    const grad = tf.grad(lastOutput)(input) as Tensor3D;
    const reached = reachedPositions(grad);
    const reach = local ?? {
      expected: range(0, t),
      beyond: [],
      what: `a stack of ${mixers.length} layer(s) with ${Array.isArray(o.schedule) ? 'explicit' : o.schedule} shifts ${JSON.stringify(layerShifts)}`,
    };
    const missing = reach.expected.filter((p) => !reached.has(p));
    const hint = spec.shiftBased ? '' : `. ${HOW_TO_DECLARE}`;
    if (missing.length) {
      return {
        passed: false,
        message: `in ${reach.what}, the output at position ${t - 1} does not depend on input position(s) ${missing.join(', ')}${hint}`,
        details: { unreached: missing },
      };
    }
    const outside = reach.beyond.filter((p) => reached.has(p));
    if (outside.length) {
      return {
        passed: false,
        message: `in ${reach.what}, the output at position ${t - 1} depends on input position(s) ${outside.join(', ')}, outside that window. Declare a larger receptiveField, or "full"`,
        details: { outside },
      };
    }
    return { passed: true, message: `in ${reach.what}, the output at position ${t - 1} depends on input positions ${reach.expected[0]}..${t - 1}` };
  } finally {
    mixers.forEach((mixer) => mixer.dispose());
  }
}
