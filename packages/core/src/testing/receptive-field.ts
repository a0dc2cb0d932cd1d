import type { AnyMixerSpec, Mixer } from '../contract.js';
import { linear } from '../layers.js';
import { computeShiftSchedule } from '../schedule.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import type { CheckOutcome } from './checks.js';
import { createMixerUnderTest, randomInput, type ResolvedOptions } from './harness.js';

/** Input positions whose gradient is exactly zero in every batch row and channel. */
function unreachedPositions(grad: Tensor3D): number[] {
  const perPosition = tf.tidy(() => tf.max(tf.abs(grad), [0, 2]).dataSync()); // [T]
  return Array.from(perPosition.keys()).filter((t) => !(perPosition[t] > 0));
}

/**
 * Does the output at the last position depend on every input position? Measured with the
 * gradient of a random projection of y[:, T-1] with respect to the whole input.
 *
 * Shift-based mixers reach far only through depth, so they are stacked as the model
 * stacks them: n layers with the schedule's shifts and residuals. Between layers a fixed
 * random D x D map stands in for the feed-forward network: the radix schedule moves a
 * channel group by one digit per layer, and only channel mixing lets a distance combine
 * digits of different groups. Other mixers (attention) must reach everything in one layer.
 */
export function checkReceptiveField(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const [b, t, d] = [o.batch, o.contextLength, o.dim];
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
    const missing = unreachedPositions(grad);
    const what = spec.shiftBased
      ? `a stack of ${mixers.length} layer(s) with ${Array.isArray(o.schedule) ? 'explicit' : o.schedule} shifts ${JSON.stringify(layerShifts)}`
      : 'one layer';
    if (missing.length) {
      return {
        passed: false,
        message: `in ${what}, the output at position ${t - 1} does not depend on input position(s) ${missing.join(', ')}`,
        details: { unreached: missing },
      };
    }
    return { passed: true, message: `in ${what}, the output at position ${t - 1} depends on all ${t} input positions` };
  } finally {
    mixers.forEach((mixer) => mixer.dispose());
  }
}
