import { CharTokenizer, Rng, ShiftmixModel, TextDataset, hasMixer, resolveRecipe, type TrainRecipe } from '@shiftmix/core';
import { ParallelStepper, TrainStepper, type PlanStatus } from '@shiftmix/core/tooling';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerLearnedFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerSoftmaxAttention } from '@shiftmix/mixer-softmax-attention';

export interface TrainStepOptions {
  /** Layer pattern, e.g. "hsm-ab*6". */
  layers: string;
  /** The training text (Tiny Shakespeare); the tokenizer is built from it. */
  text: string;
  dim?: number;
  heads?: number;
  contextLength?: number;
  batch?: number;
  dropout?: number;
  /** Recipe fields over the standard one (lr, betas, decay, clip). */
  recipe?: Partial<TrainRecipe>;
  /** Threads sharing each step (ParallelStepper; CPU backends); through TrainStepRunner.create only. */
  workers?: number;
  /** Replay a planned step (TrainStepper's plan option); default true. */
  plan?: boolean;
  /** Told why a batch shape takes the eager step. */
  onNote?: (message: string) => void;
}

/**
 * Adds the mixers the lm-char models use, once. Imported statically rather than through
 * registerShippedMixers: the GPU bundle carries no node_modules to import them from.
 */
export function registerLmCharMixers(): void {
  if (!hasMixer('hsm-ab')) registerHsmAb();
  if (!hasMixer('learned-fusion')) registerLearnedFusion();
  if (!hasMixer('softmax-attention')) registerSoftmaxAttention();
}

/** One model, optimizer and data stream, stepped by core's TrainStepper as the trainer steps them. */
export class TrainStepRunner {
  readonly model: ShiftmixModel;
  readonly recipe: TrainRecipe;
  readonly tokensPerStep: number;
  private readonly data: TextDataset;
  private readonly dataRng: Rng;
  private stepper: TrainStepper | ParallelStepper;
  private stepCount = 0;

  constructor(options: TrainStepOptions) {
    registerLmCharMixers();
    const tokenizer = CharTokenizer.fromText(options.text);
    this.data = new TextDataset(tokenizer.encode(options.text));
    this.recipe = resolveRecipe({ ...options.recipe, batch: options.batch ?? 64 });
    this.model = ShiftmixModel.create({
      vocabSize: tokenizer.vocabSize,
      layers: options.layers,
      dim: options.dim ?? 384,
      heads: options.heads ?? 6,
      contextLength: options.contextLength ?? 256,
      dropout: options.dropout ?? 0.2,
      ffn: 'match',
    });
    this.dataRng = new Rng(this.recipe.seed);
    this.stepper = new TrainStepper(this.model, this.recipe, { plan: options.plan, onNote: options.onNote });
    this.tokensPerStep = this.recipe.batch * this.model.config.contextLength;
  }

  /** A runner whose steps are shared by `options.workers` threads (ParallelStepper) when that is above 1. */
  static async create(options: TrainStepOptions): Promise<TrainStepRunner> {
    const runner = new TrainStepRunner({ ...options, workers: 1 });
    if ((options.workers ?? 1) > 1) {
      runner.stepper.optimizer.dispose();
      runner.stepper = await ParallelStepper.create(runner.model, runner.recipe, { workers: options.workers! });
    }
    return runner;
  }

  /** Whether a step may be started before the previous one resolved (see TrainStepper). */
  get canPipeline(): boolean {
    return this.stepper.canPipeline;
  }

  /**
   * One optimizer step; resolves once the loss and norm are read back. All of its work is
   * enqueued before the returned promise first waits, so with canPipeline the next step
   * can be started right away. `rows`: this step's batch size (the recipe's by default).
   */
  async step(rows = this.recipe.batch): Promise<{ loss: number; norm: number; waitMs: number }> {
    const batch = this.data.sampleBatch('train', rows, this.model.config.contextLength, this.dataRng);
    this.stepCount += 1;
    const { loss, norm, waitMs } = await this.stepper.step(batch, this.stepCount);
    return { loss, norm, waitMs };
  }

  /** Batch shapes whose steps replay a plan, and those that stay eager, with why. */
  get planStatus(): PlanStatus {
    return this.stepper instanceof TrainStepper ? this.stepper.planStatus : { planned: [], compiled: [], eager: {}, last: 'eager' };
  }

  async dispose(): Promise<void> {
    if (this.stepper instanceof ParallelStepper) await this.stepper.close();
    else this.stepper.dispose();
    this.stepper.optimizer.dispose();
    this.model.dispose();
  }
}

export interface TrainStepTiming {
  steps: number;
  /** Whether each step was enqueued before the previous one's readback was awaited. */
  pipelined: boolean;
  /** Median interval between the loss readbacks of consecutive steps. */
  medianMs: number;
  /** Whole timed loop, GPU queue drained at the end, per step. */
  meanMs: number;
  minMs: number;
  maxMs: number;
  tokensPerSecond: number;
  /**
   * Median of each step's interval minus its wait for the loss readback: the host's own
   * work per step (recording tfjs ops and dispatches). Near medianMs: the step is bound
   * by the host; far below: by the device. Without pipelining only: pipelined waits
   * overlap the next step's recording.
   */
  hostMs: number;
  /** Median wait for the loss readback. */
  waitMs: number;
  losses: number[];
}

export interface TimeOptions {
  /** Start step k + 1 before step k's readback where the runner can (see TrainStepper). */
  pipeline?: boolean;
  /** Waits for the device to finish queued work (a GPU queue); nothing on the CPU. */
  settle?: () => Promise<void>;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Times `steps` steps after `warmup` untimed ones. A step is measured from the previous
 * step's loss readback to its own, as training runs back to back: by default the update
 * of step k is enqueued before step k + 1 and waited for by its readback, as the trainer
 * does; `pipeline` (where the runner can) starts step k + 1 before step k's readback.
 */
export async function timeTrainSteps(runner: TrainStepRunner, warmup: number, steps: number, options: TimeOptions = {}): Promise<TrainStepTiming> {
  const settle = options.settle ?? (async () => {});
  for (let i = 0; i < warmup; i++) await runner.step();
  await settle();
  // With pipelining the next step is enqueued before this one's readback is awaited, so
  // the host records step k + 1 while the device still runs step k.
  const pipelined = options.pipeline === true && runner.canPipeline;
  const intervals: number[] = [];
  const hostTimes: number[] = [];
  const waits: number[] = [];
  const losses: number[] = [];
  const start = performance.now();
  let last = start;
  let pending = runner.step();
  for (let i = 0; i < steps; i++) {
    const next = pipelined && i + 1 < steps ? runner.step() : undefined;
    const { loss, waitMs } = await pending;
    const now = performance.now();
    intervals.push(now - last);
    hostTimes.push(now - last - waitMs);
    waits.push(waitMs);
    losses.push(loss);
    last = now;
    if (i + 1 < steps) pending = next ?? runner.step();
  }
  await settle();
  const meanMs = (performance.now() - start) / steps;
  const medianMs = median(intervals);
  return {
    steps,
    pipelined,
    medianMs,
    meanMs,
    minMs: Math.min(...intervals),
    maxMs: Math.max(...intervals),
    tokensPerSecond: runner.tokensPerStep / (medianMs / 1e3),
    hostMs: median(hostTimes),
    waitMs: median(waits),
    losses,
  };
}
