import type { AnyMixerSpec, Mixer, MixerState } from '../contract.js';
import { assignSafetensors, variablesToSafetensors } from '../checkpoint/safetensors.js';
import { tf, type Tensor2D, type Tensor3D } from '../tf.js';
import {
  addWeightNoise,
  contextUnderTest,
  createMixerUnderTest,
  maxAbsDiff,
  randomInput,
  type ConformanceCheckResult,
  type ResolvedOptions,
} from './harness.js';

export type CheckOutcome = Omit<ConformanceCheckResult, 'name'>;

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function disposeState(state: MixerState): void {
  tf.dispose(Object.values(state.tensors));
}

/** Output shapes in both modes, finiteness, and paramCount against the weights it created. */
export function checkShapes(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const mixer = createMixerUnderTest(spec, o);
  try {
    const want = [o.batch, o.contextLength, o.dim];
    const u = randomInput(o, 1);
    for (const training of [false, true]) {
      const y = mixer.forward(u, { training });
      if (!same(y.shape, want))
        return { passed: false, message: `forward(training: ${training}) returned [${y.shape.join(', ')}], expected [${want.join(', ')}]` };
      if (!tf.all(tf.isFinite(y)).dataSync()[0]) return { passed: false, message: `forward(training: ${training}) returned non-finite values` };
    }
    const state = mixer.initState(o.batch);
    const { y, state: next } = mixer.step(u.slice([0, 0, 0], [o.batch, 1, o.dim]).reshape([o.batch, o.dim]) as Tensor2D, state);
    disposeState(state);
    disposeState(next);
    if (!same(y.shape, [o.batch, o.dim])) return { passed: false, message: `step returned [${y.shape.join(', ')}], expected [${o.batch}, ${o.dim}]` };
    const { ctx, config } = contextUnderTest(spec, o);
    const counted = spec.paramCount(ctx, config);
    const actual = Object.values(mixer.weights)
      .filter((w) => w.trainable)
      .reduce((n, w) => n + w.size, 0);
    if (counted !== actual) return { passed: false, message: `paramCount says ${counted} but the mixer's trainable weights hold ${actual} numbers` };
    return { passed: true, message: `forward [${want.join(', ')}], step [${o.batch}, ${o.dim}], ${actual} parameters`, details: { params: actual } };
  } finally {
    mixer.dispose();
  }
}

/** Perturbing tokens p.. must leave outputs 0..p-1 unchanged, for several cut points p. */
export function checkCausality(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const mixer = createMixerUnderTest(spec, o);
  try {
    // Initial weights are near zero (attention near uniform), which hides position mix-ups.
    addWeightNoise(mixer, o.gradient.weightNoise, o.seed + 17);
    const [b, t, d] = [o.batch, o.contextLength, o.dim];
    const u = randomInput(o, 2);
    const y = mixer.forward(u, { training: false });
    // NaN compares false with everything, so a NaN output would pass every comparison below.
    if (!tf.all(tf.isFinite(y)).dataSync()[0]) return { passed: false, message: 'forward returned non-finite values, so causality cannot be checked' };
    const cuts = [...new Set([1, Math.floor(t / 2), t - 1])].filter((p) => p >= 1 && p < t);
    let worst = 0;
    for (const p of cuts) {
      const noise = tf.concat([tf.zeros([b, p, d]), tf.randomNormal([b, t - p, d], 0, 1, 'float32', o.seed + p)], 1);
      const yp = mixer.forward(tf.add(u, noise) as Tensor3D, { training: false });
      const perPosition = tf.max(tf.abs(tf.sub(yp, y)), [0, 2]).dataSync(); // [T]
      for (let q = 0; q < p; q++) {
        worst = Math.max(worst, perPosition[q]);
        if (!(perPosition[q] <= o.causalTolerance)) {
          return {
            passed: false,
            message: `not causal: changing tokens ${p}..${t - 1} changed the output at position ${q} by ${perPosition[q]}`,
            details: { cut: p, position: q, change: perPosition[q] },
          };
        }
      }
    }
    return { passed: true, message: `outputs before cuts ${cuts.join(', ')} unchanged (max change ${worst})`, details: { maxChange: worst } };
  } finally {
    mixer.dispose();
  }
}

/** Token-by-token step() must reproduce forward(); a step must not dispose the state it got. */
export function checkDecode(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  const mixer = createMixerUnderTest(spec, o);
  try {
    // As in the causality check: at init a decode that ignores positions can still agree.
    addWeightNoise(mixer, o.gradient.weightNoise, o.seed + 19);
    const [b, t] = [o.batch, o.contextLength];
    const u = randomInput(o, 3);
    const full = mixer.forward(u, { training: false });
    // Sliced up front, so that the loop allocates nothing but what step() returns.
    const inputs = tf.unstack(u, 1) as Tensor2D[]; // T x [B, D]
    const targets = tf.unstack(full, 1) as Tensor2D[];
    let state = mixer.initState(b);
    let worst = 0;
    let worstAt = 0;
    let liveAfterFirstSteps = 0;
    for (let p = 0; p < t; p++) {
      if (state.position !== p) return { passed: false, message: `the state says position ${state.position} before token ${p}` };
      const { y, state: next } = mixer.step(inputs[p], state);
      if (Object.values(state.tensors).some((tensor) => tensor.isDisposed)) {
        return { passed: false, message: `step ${p} disposed the state it was given; the caller owns it` };
      }
      disposeState(state);
      state = next;
      const diff = maxAbsDiff(y, targets[p]);
      if (diff > worst || Number.isNaN(diff)) [worst, worstAt] = [Number.isNaN(diff) ? Infinity : diff, p];
      y.dispose();
      // A generation loop runs step() thousands of times: the live tensor count must stay flat.
      const live = tf.memory().numTensors;
      if (p === 1) liveAfterFirstSteps = live;
      if (p > 1 && live > liveAfterFirstSteps) {
        return {
          passed: false,
          message: `step leaks ${live - liveAfterFirstSteps} tensor(s) per token: dispose intermediates (tf.tidy) and keep only y and the new state`,
        };
      }
    }
    disposeState(state);
    const passed = worst <= o.decodeTolerance;
    return {
      passed,
      message: passed
        ? `decode matches forward over ${t} tokens (max |diff| ${worst.toExponential(2)})`
        : `decode differs from forward by ${worst} at position ${worstAt} (allowed ${o.decodeTolerance})`,
      details: { maxAbsDiff: worst, position: worstAt },
    };
  } finally {
    mixer.dispose();
  }
}

/** Weights -> safetensors bytes -> a mixer made with another seed: same outputs. */
export function checkCheckpoint(spec: AnyMixerSpec, o: ResolvedOptions): CheckOutcome {
  let source: Mixer | undefined;
  let target: Mixer | undefined;
  try {
    source = createMixerUnderTest(spec, o);
    // Deterministic inits (ones, zeros) would agree across seeds; noise makes every value count.
    addWeightNoise(source, 0.1, o.seed + 11);
    target = createMixerUnderTest(spec, o, { seed: o.seed + 1000 });
    const bytes = variablesToSafetensors(source.weights);
    const names = assignSafetensors(target.weights, bytes);
    const u = randomInput(o, 4);
    const diff = maxAbsDiff(source.forward(u, { training: false }), target.forward(u, { training: false }));
    const passed = diff === 0;
    return {
      passed,
      message: passed
        ? `${names.length} weights (${bytes.length} bytes) restored exactly`
        : `after loading the checkpoint the outputs differ by ${diff}: some state is not in mixer.weights`,
      details: { maxAbsDiff: diff, bytes: bytes.length },
    };
  } finally {
    source?.dispose();
    target?.dispose();
  }
}
