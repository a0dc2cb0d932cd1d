import type { Batch } from '../data/dataset.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { ADAMW } from '../kernels/adamw.js';
import { AdamW, type ClipAndApplyResult } from './adamw.js';
import { StepPlanner, type PlanStatus, type Replayed } from './plan/planner.js';
import type { TraceScope } from './plan/trace.js';
import type { TrainRecipe } from './recipe.js';
import { learningRate } from './schedule.js';
import type { TrainableModel } from './types.js';

export interface StepperOptions {
  /**
   * Plan the step: record it once per batch shape and replay it, without tfjs's per-op
   * work (see plan/). Needs a backend with the fused AdamW; results are those of the
   * eager step. Default true; false takes the eager step every time.
   */
  plan?: boolean;
  /** Told once why a batch shape takes the eager step; default: nothing. */
  onNote?: (message: string) => void;
}

/**
 * A model's weights and their AdamW, stepped the one way the trainer and the benchmarks
 * step them: gradients of the loss on a batch, global-norm clipping, the update at the
 * scheduled learning rate, and one readback of loss and norm.
 */
export class TrainStepper {
  readonly optimizer: AdamW;
  private readonly variables: Variable[];
  // tfjs variable name -> stable weight name (the checkpoint key).
  private readonly names: Map<string, string>;
  private readonly planner: StepPlanner | undefined;

  constructor(
    private readonly model: TrainableModel,
    private readonly recipe: TrainRecipe,
    options: StepperOptions = {},
  ) {
    const weights = model.weights();
    this.names = new Map([...weights].map(([name, v]) => [v.name, name]));
    this.variables = [...weights.values()];
    const { beta1, beta2, eps, weightDecay } = recipe;
    this.optimizer = new AdamW(weights, { beta1, beta2, eps, weightDecay });
    // A planned step replays the fused AdamW; a backend without it (cpu) steps eagerly.
    if (options.plan === false || !this.optimizer.fusedOnDevice) return;
    this.planner = new StepPlanner({ rng: model.rng, stepAttrs: { [ADAMW.name]: ['lr', 'step'] }, scopes: mixerScopes(model), onNote: options.onNote });
  }

  /** Batch shapes whose steps replay a plan, and those that take the eager step, with why. */
  get planStatus(): PlanStatus {
    return this.planner?.status ?? { planned: [], compiled: [], eager: {}, last: 'eager' };
  }

  /** Frees the plans' constants; the optimizer is the caller's. */
  dispose(): void {
    this.planner?.dispose();
  }

  /**
   * Whether step() may be called again before the last one resolved: true where the
   * clip and update run on the device (they are queued in order), false elsewhere.
   */
  get canPipeline(): boolean {
    return this.optimizer.fusedOnDevice;
  }

  /** Number of trainable parameters. */
  get paramCount(): number {
    return this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  /**
   * Optimizer step number `step` (1-based, it picks the learning rate) on `batch`, whose
   * tensors it disposes. When the loss or the gradient norm is not finite nothing is
   * updated and the result says `applied: false`.
   */
  async step(batch: Batch, step: number): Promise<ClipAndApplyResult> {
    if (!this.planner) return this.eagerStep(batch, step);
    return this.planner.step(
      batch,
      () => this.eagerStep(batch, step),
      () => ({ lr: learningRate(step, this.recipe), step: this.optimizer.beginFusedUpdate() }),
      (replayed) => this.settle(replayed, batch),
    );
  }

  private async eagerStep(batch: Batch, step: number): Promise<ClipAndApplyResult> {
    let gradients: { loss: tf.Scalar; grads: Map<string, Tensor> };
    try {
      gradients = this.gradients(batch.x, batch.y);
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    return this.apply(gradients.grads, gradients.loss, step);
  }

  // A replayed step's readback, [loss, norm, applied], as the fused update reports it.
  private async settle(replayed: Replayed, batch: Batch): Promise<ClipAndApplyResult> {
    tf.dispose([batch.x, batch.y]);
    const pending = replayed.read();
    const start = performance.now();
    const values = await pending;
    return this.optimizer.settleFused(values, performance.now() - start);
  }

  /** The loss on tokens x and targets y ([B, T] int32) and its gradient by weight name; the caller disposes them. */
  gradients(x: tf.Tensor2D, y: tf.Tensor2D): { loss: tf.Scalar; grads: Map<string, Tensor> } {
    const { value, grads } = tf.variableGrads(() => this.model.loss(x, y, { training: true }), this.variables);
    const named = new Map<string, Tensor>();
    for (const [key, g] of Object.entries(grads)) if (g) named.set(this.names.get(key)!, g);
    return { loss: value, grads: named };
  }

  /** Clips and applies `grads` at step `step`'s learning rate, then disposes them and `loss`. */
  async apply(grads: Map<string, Tensor>, loss: tf.Scalar, step: number): Promise<ClipAndApplyResult> {
    try {
      return await this.optimizer.clipAndApply(grads, loss, learningRate(step, this.recipe), this.recipe.clip);
    } finally {
      tf.dispose([loss, ...grads.values()]);
    }
  }
}

// Each block's mixer, so that a step that cannot be planned names the layer.
function mixerScopes(model: TrainableModel): TraceScope[] {
  const blocks = (model as { blocks?: readonly { index: number; mixerName: string; mixer: object }[] }).blocks ?? [];
  return blocks.map((b) => ({ label: `block ${b.index + 1}'s mixer "${b.mixerName}"`, target: b.mixer, method: 'forward' }));
}
