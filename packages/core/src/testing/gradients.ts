import type { AnyMixerSpec, Mixer } from '../contract.js';
import { Rng } from '../rng.js';
import { tf, type Tensor3D, type Variable } from '../tf.js';
import type { CheckOutcome } from './checks.js';
import { addWeightNoise, createMixerUnderTest, randomInput, type ResolvedOptions } from './harness.js';

interface Mismatch {
  tensor: string;
  index: number;
  analytic: number;
  numeric: number;
}

/** sum(forward(u) * R), accumulated in float64 so the finite differences lose less to rounding. */
function lossValue(mixer: Mixer, u: Tensor3D, readout: Float32Array): number {
  const y = tf.tidy(() => mixer.forward(u, { training: false }).dataSync());
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i] * readout[i];
  return sum;
}

/** Sets entry `index` of `v` to `value` (fp32-rounded); returns the value actually stored. */
function setEntry(v: Variable, index: number, value: number): number {
  const data = Float32Array.from(v.dataSync() as Float32Array);
  data[index] = value;
  tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  return data[index];
}

/**
 * Gradients of every trainable weight and of the input against central finite
 * differences on a sample of entries. Weights first get a little noise (see
 * GradientCheckOptions.weightNoise). The loss is a fixed random projection of the output.
 */
export function checkGradients(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const { eps, atol, rtol, samples, weightNoise } = o.gradient;
  const mixer = createMixerUnderTest(spec, o);
  const input = tf.variable(randomInput(o, 6), true);
  try {
    addWeightNoise(mixer, weightNoise, o.seed + 13);
    const readoutTensor = tf.randomNormal([o.batch, o.contextLength, o.dim], 0, 1, 'float32', o.seed * 41);
    const readout = readoutTensor.dataSync() as Float32Array;
    const targets: [string, Variable][] = [['input', input], ...Object.entries(mixer.weights).filter(([, w]) => w.trainable && w.dtype === 'float32')];
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(mixer.forward(input as unknown as Tensor3D, { training: false }), readoutTensor)) as tf.Scalar,
      targets.map(([, v]) => v),
    );
    const rng = new Rng(o.seed * 43);
    const mismatches: Mismatch[] = [];
    let checked = 0;
    let worst = 0;
    for (const [name, variable] of targets) {
      const grad = grads[variable.name];
      if (!grad) {
        mismatches.push({ tensor: name, index: -1, analytic: NaN, numeric: NaN });
        continue;
      }
      const analytic = grad.dataSync();
      const count = Math.min(samples, variable.size);
      const picked = new Set<number>();
      while (picked.size < count) picked.add(rng.int(variable.size));
      for (const index of picked) {
        const original = (variable.dataSync() as Float32Array)[index];
        const plus = setEntry(variable, index, original + eps);
        const fPlus = lossValue(mixer, input as unknown as Tensor3D, readout);
        const minus = setEntry(variable, index, original - eps);
        const fMinus = lossValue(mixer, input as unknown as Tensor3D, readout);
        setEntry(variable, index, original);
        const numeric = (fPlus - fMinus) / (plus - minus);
        const error = Math.abs(numeric - analytic[index]);
        const allowed = atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[index]));
        worst = Math.max(worst, error / allowed);
        checked++;
        if (!(error <= allowed)) mismatches.push({ tensor: name, index, analytic: analytic[index], numeric });
      }
    }
    tf.dispose(Object.values(grads));
    if (mismatches.length) {
      const listed = mismatches
        .slice(0, 5)
        .map((m) =>
          m.index < 0 ? `${m.tensor}: no gradient (is it used in forward?)` : `${m.tensor}[${m.index}]: analytic ${m.analytic}, finite difference ${m.numeric}`,
        );
      return {
        passed: false,
        message: `${mismatches.length} of ${checked} sampled gradient entries disagree: ${listed.join('; ')}`,
        details: { mismatches: mismatches.length, checked },
      };
    }
    return {
      passed: true,
      message: `${checked} sampled entries of ${targets.length} tensors match finite differences (worst at ${(worst * 100).toFixed(1)}% of the tolerance)`,
      details: { checked, worstToTolerance: worst },
    };
  } finally {
    input.dispose();
    mixer.dispose();
  }
}
