import type { Batch } from '../data/dataset.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import { AdamW, type ClipAndApplyResult } from './adamw.js';
import type { TrainRecipe } from './recipe.js';
import { learningRate } from './schedule.js';
import type { TrainableModel } from './types.js';

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

  constructor(
    private readonly model: TrainableModel,
    private readonly recipe: TrainRecipe,
  ) {
    const weights = model.weights();
    this.names = new Map([...weights].map(([name, v]) => [v.name, name]));
    this.variables = [...weights.values()];
    const { beta1, beta2, eps, weightDecay } = recipe;
    this.optimizer = new AdamW(weights, { beta1, beta2, eps, weightDecay });
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
    let gradients: { loss: tf.Scalar; grads: Map<string, Tensor> };
    try {
      gradients = this.gradients(batch.x, batch.y);
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    return this.apply(gradients.grads, gradients.loss, step);
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
