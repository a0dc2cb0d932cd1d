import { ShiftmixError } from '../errors.js';
import { ADAMW } from '../kernels/adamw.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { clipScale, globalNorm } from './clip.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay, applied only to weights of rank >= 2 (matrices, embeddings). */
  weightDecay: number;
}

import type { AdamWState } from '../training-types.js';

export type { AdamWState };

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/**
 * tfjs kernel name of a backend's fused clip-and-update (e.g. @shiftmix/webgpu's). Inputs:
 * `loss`, `halt` (float32 [1], updated in place) and, for each updated weight i, `p<i>`,
 * `m<i>`, `v<i>` (updated in place) and `g<i>`; attrs: `count`, `decays` (0/1 per weight),
 * `lr`, `beta1`, `beta2`, `eps`, `weightDecay`, `step` (after this update), `maxNorm` (0: no
 * clipping). Output: [2], the global norm of the gradients before clipping and 1 when the
 * update was applied, else 0. The kernel changes nothing when the loss or that norm is not
 * finite, or when `halt` is not 0; in the first case it sets `halt` to 1, so that updates
 * already queued behind a diverged step change nothing either.
 */

/** What one clipped update reports: the loss and norm read back, and whether weights changed. */
export interface ClipAndApplyResult {
  loss: number;
  /** Global norm of the gradients before clipping. */
  norm: number;
  /** False when the loss or the norm was not finite: weights, moments and step are unchanged. */
  applied: boolean;
  /**
   * Milliseconds spent waiting for the backend to deliver loss and norm, after the step
   * was recorded: on a GPU the rest of a step's wall time is the host's own work.
   */
  waitMs: number;
}

/** Reads a small tensor back, timing only the wait, and disposes it. */
async function readBack(x: Tensor): Promise<{ values: Float32Array; waitMs: number }> {
  const pending = x.data() as Promise<Float32Array>;
  const start = performance.now();
  const values = await pending;
  const waitMs = performance.now() - start;
  x.dispose();
  return { values, waitMs };
}

/**
 * AdamW as PyTorch computes it (decoupled decay, bias correction folded into the step
 * size). Biases, layer-norm gains and per-channel vectors such as hsm-ab's (a, b) are
 * rank 1 and are not decayed: decay pulls them towards 0, which for gains and (a, b)
 * (initialized at 1) would fight the model rather than regularize it.
 */
export class AdamW {
  readonly options: AdamWOptions;
  private readonly params: Map<string, Variable>;
  private readonly m = new Map<string, Variable>();
  private readonly v = new Map<string, Variable>();
  // The fused kernel's device-side halt flag; `haltSeen` is the host's knowledge of it.
  private halt: Variable | undefined;
  private haltSeen = false;
  private t = 0;

  constructor(params: Map<string, Variable>, options: Partial<AdamWOptions> = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    const { beta1, beta2, eps, weightDecay } = this.options;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new ShiftmixError(`AdamW betas (${beta1}, ${beta2}) must lie in [0, 1)`, 'Use e.g. beta1 0.9, beta2 0.99', 'E_RECIPE');
    }
    if (!(eps > 0)) throw new ShiftmixError(`AdamW eps ${eps} must be positive`, 'Use e.g. eps 1e-8', 'E_RECIPE');
    if (!(weightDecay >= 0)) throw new ShiftmixError(`weight decay ${weightDecay} must be >= 0`, 'Use e.g. 0.1', 'E_RECIPE');
    this.params = new Map(params);
    for (const [name, p] of this.params) {
      // tidy frees the zeros a variable is made from (tf.variable copies them); variables survive it.
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /** Number of updates applied so far. */
  get step(): number {
    return this.t;
  }

  /**
   * True once clipAndApply has reported a step that was not finite: every later
   * clipAndApply then changes nothing (and says `applied: false`) until clearHalt().
   */
  get halted(): boolean {
    return this.haltSeen;
  }

  /** Lets clipAndApply update again after a step that was not finite (see `halted`). */
  clearHalt(): void {
    this.haltSeen = false;
    if (this.halt) tf.tidy(() => this.halt!.assign(tf.zeros([1])));
  }

  /** Whether weight decay applies to a weight of this shape. */
  static decays(shape: readonly number[]): boolean {
    return shape.length >= 2;
  }

  /**
   * One update with learning rate `lr`. Every gradient is multiplied by `gradScale`
   * first, which is how global-norm clipping is applied without copying the gradients.
   * Weights without a gradient (not reached by the loss) are left untouched, decay
   * included, as PyTorch does for parameters whose grad is None.
   */
  apply(grads: Map<string, Tensor>, lr: number, gradScale = 1): void {
    for (const name of grads.keys()) {
      if (!this.params.has(name)) {
        throw new ShiftmixError(`gradient for unknown weight "${name}"`, 'Pass the gradients of the weights the optimizer was created with', 'E_OPTIMIZER');
      }
    }
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    const stepSize = lr / (1 - beta1 ** this.t);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** this.t);
    for (const [name, grad] of grads) {
      const p = this.params.get(name)!;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const g = gradScale === 1 ? grad : tf.mul(grad, gradScale);
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), sqrtBc2), eps);
        const decayed = weightDecay > 0 && AdamW.decays(p.shape) ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), stepSize)));
        m.assign(m1);
        v.assign(v1);
      });
    }
  }

  /**
   * Global-norm clipping to `maxNorm` (0: off) and one update, then the loss and the norm
   * read back together. Nothing changes when either is not finite, so a diverged step
   * leaves the weights as they were, and the optimizer halts: later calls change nothing
   * until clearHalt(). That makes pipelining safe: steps queued behind a diverged one (see
   * fusedOnDevice) are skipped even when their own loss is finite. With a backend's
   * ADAMW the norm, the clip and the update stay on the device and the one readback
   * is the only wait; otherwise the norm is read first and `apply` runs with its clip scale.
   */
  async clipAndApply(grads: Map<string, Tensor>, loss: tf.Scalar, lr: number, maxNorm: number): Promise<ClipAndApplyResult> {
    if (grads.size > 0 && this.fusedOnDevice) return this.fusedClipAndApply(grads, loss, lr, maxNorm);
    const { values, waitMs } = await readBack(tf.tidy(() => tf.stack([loss, globalNorm(grads.values())])));
    const [lossValue, norm] = values;
    if (!Number.isFinite(lossValue) || !Number.isFinite(norm)) this.haltSeen = true;
    if (this.haltSeen) return { loss: lossValue, norm, applied: false, waitMs };
    this.apply(grads, lr, clipScale(norm, maxNorm));
    return { loss: lossValue, norm, applied: true, waitMs };
  }

  /**
   * The fused kernel updates buffers in place, so each weight and moment must own its
   * buffer: a variable made from a tensor, or assigned one, shares that tensor's data.
   */
  private ownBuffers(tensors: Variable[]): void {
    const backend = tf.engine().backend;
    for (const x of tensors) {
      if (backend.refCount(x.dataId) <= 1) continue;
      const copy = tf.mul(x, 1);
      x.assign(copy);
      copy.dispose();
    }
  }

  /**
   * Whether clipAndApply runs on the device (a backend's ADAMW): then a caller may
   * enqueue the next step before this one's readback resolves, since the update is in the
   * device's queue already; on other backends the update waits for the readback. The
   * device keeps its own halt flag, so the steps queued behind one that is not finite
   * change nothing, whenever the host reads that step back.
   */
  get fusedOnDevice(): boolean {
    return ADAMW.implementedOn();
  }

  private async fusedClipAndApply(grads: Map<string, Tensor>, loss: tf.Scalar, lr: number, maxNorm: number): Promise<ClipAndApplyResult> {
    const names = [...grads.keys()];
    for (const name of names) {
      if (!this.params.has(name))
        throw new ShiftmixError(`gradient for unknown weight "${name}"`, 'Pass the gradients of the weights the optimizer was created with', 'E_OPTIMIZER');
    }
    const halt = this.ownFusedBuffers(names);
    const inputs: Record<string, Tensor> = { loss, halt };
    names.forEach((name, i) => {
      const [p, m, v] = [this.params.get(name)!, this.m.get(name)!, this.v.get(name)!];
      Object.assign(inputs, { [`p${i}`]: p, [`m${i}`]: m, [`v${i}`]: v, [`g${i}`]: grads.get(name)! });
    });
    const { beta1, beta2, eps, weightDecay } = this.options;
    const attrs = {
      count: names.length,
      decays: names.map((n) => (AdamW.decays(this.params.get(n)!.shape) ? 1 : 0)),
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      step: this.t + 1,
      maxNorm,
    };
    const report = ADAMW.call<tf.Tensor1D>(inputs, attrs);
    this.t += 1;
    const packed = tf.tidy(() => tf.concat([tf.reshape(loss, [1]), report]));
    report.dispose();
    const { values, waitMs } = await readBack(packed);
    return this.settleFused(values, waitMs);
  }

  // The kernel updates in place: the halt flag and each updated weight and moment own their buffers.
  private ownFusedBuffers(names: Iterable<string>): Variable {
    this.halt ??= tf.tidy(() => tf.variable(tf.zeros([1]), false));
    this.ownBuffers([this.halt]);
    for (const name of names) this.ownBuffers([this.params.get(name)!, this.m.get(name)!, this.v.get(name)!]);
    return this.halt;
  }

  /**
   * For a planned step, which replays the fused kernel itself: makes the buffers it updates
   * its own and returns the step number the update takes. The step is counted now, before
   * the wait, so that a next update queued meanwhile (see fusedOnDevice) takes the next
   * bias correction; settleFused takes it back if the device skipped this one.
   */
  beginFusedUpdate(): number {
    this.ownFusedBuffers(this.params.keys());
    this.t += 1;
    return this.t;
  }

  /** The fused update's readback, [loss, norm, applied], as a result. */
  settleFused(values: Float32Array, waitMs: number): ClipAndApplyResult {
    const [lossValue, normValue, appliedFlag] = values;
    const applied = appliedFlag === 1;
    if (!applied) {
      this.t -= 1;
      this.haltSeen = true;
    }
    return { loss: lossValue, norm: normValue, applied, waitMs };
  }

  /** The live moments (not copies): read them before the next update, do not dispose them. */
  getState(): AdamWState {
    return { step: this.t, m: new Map(this.m), v: new Map(this.v) };
  }

  /** Copies a saved state in; names and shapes must match the weights exactly. */
  setState(state: AdamWState): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new ShiftmixError(`optimizer step ${state.step} is not a non-negative integer`, 'The checkpoint state is damaged; save it again', 'E_CHECKPOINT');
    }
    for (const [which, saved, live] of [
      ['m', state.m, this.m],
      ['v', state.v, this.v],
    ] as const) {
      for (const name of saved.keys()) {
        if (!live.has(name)) {
          throw new ShiftmixError(
            `optimizer ${which} has a moment for unknown weight "${name}"`,
            'Resume with the model configuration the checkpoint was trained with',
            'E_CHECKPOINT',
          );
        }
      }
      for (const [name, target] of live) {
        const source = saved.get(name);
        if (!source) {
          throw new ShiftmixError(
            `optimizer ${which} has no moment for weight "${name}"`,
            'Resume with the model configuration the checkpoint was trained with',
            'E_CHECKPOINT',
          );
        }
        if (!tf.util.arraysEqual(source.shape, target.shape)) {
          throw new ShiftmixError(
            `optimizer ${which} for "${name}" has shape [${source.shape}] but the weight has [${target.shape}]`,
            'Resume with the model configuration the checkpoint was trained with',
            'E_CHECKPOINT',
          );
        }
      }
    }
    for (const [name, target] of this.m) target.assign(state.m.get(name)!);
    for (const [name, target] of this.v) target.assign(state.v.get(name)!);
    this.t = state.step;
    this.clearHalt();
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
    this.halt?.dispose();
    this.halt = undefined;
    this.haltSeen = false;
    this.m.clear();
    this.v.clear();
  }
}
