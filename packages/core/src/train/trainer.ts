import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointContents } from '../checkpoint/encode.js';
import { saveCheckpoint } from '../checkpoint/save.js';
import type { TrainState } from '../checkpoint/format.js';
import { ShiftmixError } from '../errors.js';
import { Rng } from '../rng.js';
import { tf } from '../tf.js';
import type { AdamWState, ClipAndApplyResult } from './adamw.js';
import { divergedError, DivergenceWatch, nonFiniteReason } from './divergence.js';
import { MetricsLog } from './metrics.js';
import { resolveRecipe, type TrainRecipe } from './recipe.js';
import { learningRate } from './schedule.js';
import { holdRunLock, type RunLock } from './run-lock.js';
import { ParallelStepper } from './parallel/stepper.js';
import { TrainStepper } from './stepper.js';
import { bitsPerByteOf } from './bits.js';
import type { Batch } from '../data/dataset.js';
import type { ProgressEvent, SerializableTokenizer, TrainableModel, TrainingData, TrainSummary } from './types.js';

/**
 * One turn of the event loop. Node's setImmediate runs after pending I/O and signals
 * without setTimeout's 1 ms floor (a few percent of a GPU step); browsers have setTimeout.
 */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

export interface TrainOptions {
  model: TrainableModel;
  data: TrainingData;
  recipe?: Partial<TrainRecipe>;
  /** Stored as tokenizer.json in every checkpoint. */
  tokenizer?: SerializableTokenizer;
  /** Run directory: checkpoints last/ and best/, and metrics.jsonl. Without it nothing is written. */
  outDir?: string;
  /** Replace a run that already lives in outDir; by default that is refused. */
  overwrite?: boolean;
  /** Called after every step. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Called wherever a checkpoint is saved (each evaluation: `last`, with the optimizer
   * moments, and `best` when the validation loss improved; and `last` when stopped), with
   * or without outDir: a browser, with no directory to write, keeps
   * `checkpointFiles(contents)`. The contents hold the live weights and moments: read them
   * before the returned promise settles (training waits for it).
   */
  onCheckpoint?: (kind: 'last' | 'best', contents: CheckpointContents) => void | Promise<void>;
  /**
   * Stops after the current step and saves last/ there, so `resume` continues the run.
   * When steps are pipelined, the step already queued behind the current one completes too.
   */
  signal?: AbortSignal;
  /**
   * Queue each step on the device before the previous one is read back, where the backend
   * updates the weights on the device (webgpu), so the host records a step while the GPU
   * runs the last. Results are identical either way; false turns it off. Default true.
   */
  pipeline?: boolean;
  /**
   * Threads that share each step (CPU backends): the batch is split by rows between this
   * thread and workers - 1 worker threads, each with a replica of the model, and their
   * gradients are averaged. 2 on a 2-core machine; default 1 (none).
   */
  workers?: number;
  /** Modules the workers import to register mixers the registry does not know the source of. */
  workerModules?: string[];
  /**
   * The lock of outDir (lockRunDirectory), when the caller took it to write files of its own
   * there first; otherwise train takes it for the call, and refuses a directory that
   * another process is training in.
   */
  lock?: RunLock;
  /** Told about a stale run.lock taken over; default: console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Replay a planned step: the step is recorded once per batch shape and replayed without
   * tfjs's per-op work (on WebGPU, its recorded dispatches encoded again), with the eager
   * step's results. Default true; false takes the eager step, op by op, every time.
   */
  plan?: boolean;
  /** Told once why a batch shape takes the eager step (or, on WebGPU, is not compiled); default: nothing. */
  onNote?: (message: string) => void;
}

/** Where a resumed run starts; `resume` builds it from a checkpoint. */
export interface TrainStart {
  optimizer: AdamWState;
  state: TrainState;
  /** The checkpoint it was loaded from, kept as the last good one until a new one is saved. */
  checkpoint?: string;
}

const now = () => performance.now() / 1000;
/** Steps the tokens/s of the progress events and metrics.jsonl is measured over. */
const RATE_WINDOW = 10;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function evaluate(model: TrainableModel, batches: Batch[]): Promise<number> {
  const losses = batches.map((b) => tf.tidy(() => model.loss(b.x, b.y, { training: false })));
  const mean = tf.tidy(() => tf.mean(tf.stack(losses)));
  const value = (await mean.data())[0];
  tf.dispose([...losses, mean]);
  return value;
}

/**
 * Trains `model` with AdamW on batches sampled from `data`, as nanoGPT does: linear
 * warm-up then cosine decay, global-norm clipping, evaluation on fixed validation
 * batches every `evalEvery` steps and at the end. With `outDir`, each evaluation saves
 * last/ (resumable) and, when the validation loss improves, best/ (weights only).
 */
export async function train(options: TrainOptions): Promise<TrainSummary> {
  return runTraining(options);
}

export async function runTraining(options: TrainOptions, start?: TrainStart): Promise<TrainSummary> {
  const { outDir } = options;
  const r = resolveRecipe(options.recipe);
  const started = now();
  const { release } = outDir ? holdRunLock(outDir, options.lock, { onWarning: options.onWarning }) : { release: () => undefined };
  try {
    if (outDir && !start && !options.overwrite && existsSync(join(outDir, 'last'))) {
      throw new ShiftmixError(
        `${outDir} already holds a training run`,
        'Resume it, choose another output directory, or pass overwrite to replace it',
        'E_RUN_EXISTS',
      );
    }
    return await runLocked(options, r, started, start);
  } finally {
    release();
  }
}

async function runLocked(options: TrainOptions, r: TrainRecipe, started: number, start?: TrainStart): Promise<TrainSummary> {
  const { model } = options;
  model.preflight?.();
  const workers = options.workers ?? 1;
  const notes: string[] = [];
  const onNote = (message: string) => {
    notes.push(message);
    options.onNote?.(message);
  };
  const stepper =
    workers > 1
      ? await ParallelStepper.create(model, r, { workers, modules: options.workerModules })
      : new TrainStepper(model, r, { plan: options.plan, onNote });
  try {
    const summary = await trainWith(stepper, options, r, started, start);
    return { ...summary, ...stepKind(stepper, notes) };
  } finally {
    // Worker threads would keep the process alive; plans hold device buffers.
    if (stepper instanceof ParallelStepper) await stepper.close();
    else stepper.dispose();
  }
}

// How the run's steps ran, as its last step did (a shape's first steps are eager, recorded).
function stepKind(stepper: TrainStepper | ParallelStepper, notes: string[]): Pick<TrainSummary, 'stepKind' | 'stepNotes'> {
  const last = stepper instanceof ParallelStepper ? undefined : stepper.planStatus.last;
  return { stepKind: last ?? 'eager', stepNotes: notes };
}

async function trainWith(
  stepper: TrainStepper | ParallelStepper,
  options: TrainOptions,
  r: TrainRecipe,
  started: number,
  start?: TrainStart,
): Promise<Omit<TrainSummary, 'stepKind' | 'stepNotes'>> {
  const { model, data, tokenizer, outDir, onProgress, signal } = options;
  const ctx = model.config.contextLength;
  const optimizer = stepper.optimizer;
  const params = stepper.paramCount;
  const dataRng = new Rng(r.seed);
  let step = 0;
  let best = Number.POSITIVE_INFINITY;
  let elapsedBefore = 0;
  if (start) {
    optimizer.setState(start.optimizer);
    step = start.state.step;
    dataRng.state = start.state.dataRng;
    model.rng.state = start.state.modelRng;
    best = start.state.bestValLoss ?? best;
    elapsedBefore = start.state.elapsed;
  }
  const startStep = step;
  const metrics = outDir ? await MetricsLog.open(join(outDir, 'metrics.jsonl'), start?.state.metricsBytes) : undefined;
  const valBatches = data.fixedBatches('val', r.evalBatches, r.batch, ctx, r.evalSeed);
  const bpb = bitsPerByteOf(data.bytesPerToken);
  const tokensPerStep = r.batch * ctx;
  let trainSeconds = 0;
  let lastValLoss = Number.NaN;
  // Training losses since the last evaluation; their mean is the summary's trainLoss.
  let windowLosses: number[] = [];
  let intervalTrainLoss = Number.NaN;
  // The last good checkpoint: a resumed run starts from one.
  let savedLast: string | undefined = start && outDir ? (start.checkpoint ?? join(outDir, 'last')) : undefined;
  let savedAtStep = start ? start.state.step : -1;
  const kept = () => (savedLast ? { dir: savedLast, step: savedAtStep } : undefined);
  const watch = new DivergenceWatch(model.config, best);
  const elapsed = () => elapsedBefore + (now() - started);

  const save = async (kind: 'last' | 'best') => {
    if (!outDir && !options.onCheckpoint) return;
    const state: TrainState = {
      step,
      modelRng: model.rng.state,
      dataRng: dataRng.state,
      bestValLoss: Number.isFinite(best) ? best : null,
      metricsBytes: metrics?.bytes ?? 0,
      elapsed: elapsed(),
    };
    const optimizerState = kind === 'last' ? optimizer.getState() : undefined;
    const contents: CheckpointContents = { model, tokenizer, recipe: r, optimizer: optimizerState, state };
    try {
      if (outDir) await saveCheckpoint(join(outDir, kind), contents);
      await options.onCheckpoint?.(kind, contents);
    } catch (error) {
      // Weights that are not finite are not saved: the checkpoint before stays the good one.
      if ((error as ShiftmixError).code === 'E_NONFINITE_WEIGHTS') throw divergedError(step, (error as ShiftmixError).problem, r.lr, kept(), 'E_NONFINITE');
      throw error;
    }
    if (kind === 'last') {
      if (outDir) savedLast = join(outDir, kind);
      savedAtStep = step;
    }
  };

  const pipelined = options.pipeline !== false && stepper.canPipeline;
  const record = (stepNumber: number) => stepper.step(data.sampleBatch('train', r.batch, ctx, dataRng), stepNumber);
  const evalDueAt = (stepNumber: number) => stepNumber % r.evalEvery === 0 || stepNumber === r.steps;
  // The step after `step`, already recorded and queued on the device.
  let queued: Promise<ClipAndApplyResult> | undefined;
  // When the previous step finished: a queued step ran on the device from then on.
  let previousDone = now();
  // Training seconds at the end of the last steps: the reported rate spans a few steps,
  // because a step queued on a synchronous backend (wasm) did its work during the one before.
  const recentSeconds: number[] = [0];

  try {
    while (step < r.steps && (queued || !signal?.aborted)) {
      const t0 = now();
      const wasQueued = queued !== undefined;
      const current = queued ?? record(step + 1);
      queued = undefined;
      // Evaluation and checkpoints must see this step's weights and random state exactly,
      // so nothing is queued behind a step that ends an evaluation interval.
      if (pipelined && step + 2 <= r.steps && !evalDueAt(step + 1) && !signal?.aborted) queued = record(step + 2);
      let outcome: ClipAndApplyResult;
      try {
        outcome = await current;
      } catch (error) {
        await queued?.catch(() => undefined);
        throw error;
      }
      const { loss, norm } = outcome;
      const lr = learningRate(step + 1, r);
      if (!outcome.applied) {
        // The queued step found the device's halt flag set and changed nothing.
        await queued?.catch(() => undefined);
        throw divergedError(step + 1, nonFiniteReason(loss, norm) ?? 'the step was not applied', r.lr, kept(), 'E_NONFINITE');
      }
      watch.observeTrain(loss);
      step += 1;
      // A macrotask turn per step lets signal handlers (Ctrl-C) and timers run: on wasm and
      // cpu every await above resolves as a microtask and would starve them.
      await yieldToEventLoop();
      const done = now();
      // A queued step started when the one before it finished, not when this turn began
      // (by then it may be done already): timing it from t0 made its tokens/s absurd.
      const stepSeconds = done - (wasQueued ? previousDone : t0);
      previousDone = done;
      trainSeconds += stepSeconds;
      recentSeconds.push(trainSeconds);
      if (recentSeconds.length > RATE_WINDOW + 1) recentSeconds.shift();
      windowLosses.push(loss);

      const tokensPerSecond = ((recentSeconds.length - 1) * tokensPerStep) / Math.max(trainSeconds - recentSeconds[0], 1e-9);
      const evalDue = evalDueAt(step);
      let valLoss: number | undefined;
      let improved = false;
      if (evalDue) {
        valLoss = await evaluate(model, valBatches);
        lastValLoss = valLoss;
        // A blown-up model is not saved over the last good checkpoint.
        const diverged = watch.check(valLoss);
        if (diverged) {
          await metrics?.append({ step, trainLoss: loss, valLoss, ...bpb.record(loss, valLoss), lr, gradNorm: norm, tokensPerSecond, elapsed: elapsed() });
          throw divergedError(step, diverged, r.lr, kept());
        }
        if (valLoss < best) {
          best = valLoss;
          improved = true;
        }
      }
      await metrics?.append({
        step,
        trainLoss: loss,
        valLoss: valLoss ?? null,
        ...bpb.record(loss, valLoss ?? null),
        lr,
        gradNorm: norm,
        tokensPerSecond,
        elapsed: elapsed(),
      });
      if (evalDue) {
        await save('last');
        if (improved) await save('best');
      }
      onProgress?.({
        step,
        steps: r.steps,
        trainLoss: loss,
        valLoss,
        bestValLoss: Number.isFinite(best) ? best : undefined,
        ...bpb.progress(loss, valLoss, Number.isFinite(best) ? best : undefined),
        lr,
        gradNorm: norm,
        tokensPerSecond,
        elapsed: elapsed(),
      });
      if (evalDue) {
        intervalTrainLoss = mean(windowLosses);
        windowLosses = [];
      }
    }
    if (signal?.aborted && savedAtStep !== step && step > startStep) await save('last');
  } finally {
    optimizer.dispose();
    tf.dispose(valBatches.flatMap((b) => [b.x, b.y]));
    await metrics?.close();
  }

  const stepsRun = step - startStep;
  const trainLoss = windowLosses.length > 0 ? mean(windowLosses) : intervalTrainLoss;
  const bestValLoss = Number.isFinite(best) ? best : Number.NaN;
  return {
    params,
    steps: step,
    trainLoss,
    valLoss: lastValLoss,
    bestValLoss,
    ...bpb.summary(trainLoss, lastValLoss, bestValLoss),
    tokensPerSecond: stepsRun > 0 ? (stepsRun * tokensPerStep) / trainSeconds : 0,
    seconds: now() - started,
    backend: tf.getBackend(),
    stopped: step < r.steps,
    pipelined,
    workers: options.workers ?? 1,
    outDir,
  };
}
