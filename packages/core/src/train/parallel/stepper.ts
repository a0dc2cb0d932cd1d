import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { activeBackend } from '../../backend.js';
import type { Batch } from '../../data/dataset.js';
import { ShiftmixError } from '../../errors.js';
import { mix32 } from '../../kernels/dropout-hash.js';
import type { ModelConfig } from '../../model/config.js';
import { parseLayerPattern } from '../../model/pattern.js';
import { getMixer, listMixers } from '../../registry.js';
import { tf } from '../../tf.js';
import type { AdamW, ClipAndApplyResult } from '../adamw.js';
import type { TrainRecipe } from '../recipe.js';
import { TrainStepper } from '../stepper.js';
import type { TrainableModel } from '../types.js';
import { flatLayout, readFlat, weightedSum, writeFlat, type FlatLayout } from './flat.js';
import type { FromWorker, SharedBuffers, StepMessage, ToWorker } from './protocol.js';
import { importable } from '../../plugins/load.js';

export interface ParallelOptions {
  /** Participants, this thread included (2 on a 2-core machine). */
  workers: number;
  /**
   * Modules the workers import to register mixers, beyond those the registry knows the
   * source of (every shipped mixer, and plugins the CLI loaded).
   */
  modules?: string[];
}

// The built worker sits in dist/ beside the bundle; run from the sources, take the built one.
function workerFile(): string {
  const candidates = ['./train/parallel/worker.js', './worker.js', '../../../dist/train/parallel/worker.js'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((f) => existsSync(f) && !f.includes(`${'src'}/train/parallel/worker.js`));
  if (!found)
    throw new ShiftmixError('the parallel training worker is not built', 'Build @shiftmix/core (npm run build), or train with workers: 1', 'E_PARALLEL');
  return found;
}

/** Rows [start, start + rows) of a batch of `batch` for each of `parts` participants, the first ones one larger. */
export function shardRows(batch: number, parts: number): [number, number][] {
  const base = Math.floor(batch / parts);
  const extra = batch % parts;
  let start = 0;
  return Array.from({ length: parts }, (_, i) => {
    const rows = base + (i < extra ? 1 : 0);
    const shard: [number, number] = [start, rows];
    start += rows;
    return shard;
  });
}

/** The modules that register the model's mixers, from the registry's record of where each came from. */
function mixerModules(config: ModelConfig, extra: string[]): string[] {
  const modules = new Set(extra.map((m) => importable(m)));
  for (const name of new Set(parseLayerPattern(config.layers))) {
    getMixer(name);
    const source = listMixers().find((m) => m.spec.name === name)?.source;
    if (!source && extra.length === 0) {
      throw new ShiftmixError(
        `training on several workers needs to know which module registers mixer "${name}", and the registry does not say`,
        'Register it with registerMixer(spec, { source: "<module>" }), or pass the module in the workers option\'s modules',
        'E_PARALLEL',
      );
    }
    if (source) modules.add(importable(source));
  }
  return [...modules];
}

/**
 * Data-parallel training steps on one machine: every batch is split by rows between this
 * thread and `workers - 1` worker threads, each holding a replica of the model and of its
 * AdamW on its own backend. Their gradients meet in shared memory, weighted by the targets
 * each scored, and every replica applies the same combined update, so the weights stay
 * equal without being copied. The losses are those of one thread up to float rounding
 * (with dropout, each shard draws its own masks).
 */
export class ParallelStepper {
  private readonly local: TrainStepper;
  private readonly layout: FlatLayout;
  private readonly shared: { weights: Float32Array; m: Float32Array; v: Float32Array };
  /** Gradient slots of each phase (steps alternate them). */
  private readonly slots: Float32Array[][];
  private phase: 0 | 1 = 0;
  private readonly combined: Float32Array;
  private readonly waiting = new Map<Worker, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  // The replicas take this thread's weights and moments at the first step (after a resume's setState).
  private synced = false;
  // A worker's error that answered no request (its update failed): the next step throws it.
  private unclaimed: Error | undefined;

  private constructor(
    private readonly model: TrainableModel,
    recipe: TrainRecipe,
    private readonly workers: Worker[],
    buffers: SharedBuffers,
  ) {
    this.local = new TrainStepper(model, recipe);
    this.layout = flatLayout(model.weights());
    this.shared = { weights: new Float32Array(buffers.weights), m: new Float32Array(buffers.m), v: new Float32Array(buffers.v) };
    const participants = workers.length + 1;
    this.slots = [0, 1].map((phase) =>
      Array.from({ length: participants }, (_, i) => new Float32Array(buffers.grads, (phase * participants + i) * this.layout.size * 4, this.layout.size)),
    );
    this.combined = new Float32Array(this.layout.size);
    for (const w of workers) {
      w.on('message', (reply: FromWorker) => this.settle(w, reply));
      w.on('error', (error) =>
        this.fail(w, new ShiftmixError(`a training worker crashed: ${error.message}`, 'Run with workers: 1 to see the error in this thread', 'E_PARALLEL')),
      );
      w.on('exit', (code) =>
        this.fail(
          w,
          new ShiftmixError(
            `a training worker exited (code ${code}) in the middle of a step`,
            'Run with workers: 1 to see the error in this thread',
            'E_PARALLEL',
          ),
        ),
      );
    }
  }

  static async create(model: TrainableModel, recipe: TrainRecipe, options: ParallelOptions): Promise<ParallelStepper> {
    const backend = tf.getBackend();
    const config = model.config as ModelConfig;
    if (backend !== 'wasm' && backend !== 'cpu') {
      throw new ShiftmixError(
        `training on several workers runs on the CPU backends, and ${backend} is active`,
        'Use workers: 1 on a GPU, or --backend wasm',
        'E_PARALLEL',
      );
    }
    if (typeof config.layers !== 'string') {
      throw new ShiftmixError('training on several workers needs a ShiftmixModel (its config rebuilds each replica)', 'Train with workers: 1', 'E_PARALLEL');
    }
    if (!(Number.isInteger(options.workers) && options.workers >= 2) || options.workers > recipe.batch) {
      throw new ShiftmixError(
        `workers ${options.workers} must be a whole number from 2 to the batch size ${recipe.batch}`,
        'Use 2 on a 2-core machine, or 1 for no workers',
        'E_PARALLEL',
      );
    }
    const layout = flatLayout(model.weights());
    const bytes = layout.size * 4;
    const buffers: SharedBuffers = {
      weights: new SharedArrayBuffer(bytes),
      m: new SharedArrayBuffer(bytes),
      v: new SharedArrayBuffer(bytes),
      grads: new SharedArrayBuffer(2 * bytes * options.workers),
    };
    const blasThreads = Math.max(1, Math.floor(cpus().length / options.workers));
    const modules = mixerModules(config, options.modules ?? []);
    const file = workerFile();
    const workers = Array.from({ length: options.workers - 1 }, () => new Worker(file));
    const stepper = new ParallelStepper(model, recipe, workers, buffers);
    // This thread's share of the cores: the backend's own kernels (the BLAS, a pool) get as many threads.
    activeBackend().threads?.set(blasThreads);
    try {
      await Promise.all(
        workers.map(async (w, i) => {
          const reply = await stepper.send(w, { type: 'init', config, recipe, modules, backend, buffers, slot: i + 1, blasThreads });
          if (reply.type === 'ready' && reply.size !== layout.size) {
            throw new ShiftmixError(
              `a worker's replica has ${reply.size} weights, this model ${layout.size}`,
              'Register the same mixers in the workers (modules option)',
              'E_PARALLEL',
            );
          }
        }),
      );
    } catch (error) {
      await stepper.close();
      throw error;
    }
    return stepper;
  }

  get optimizer(): AdamW {
    return this.local.optimizer;
  }

  get paramCount(): number {
    return this.local.paramCount;
  }

  /** Steps are not pipelined: each one waits for every worker's gradient. */
  get canPipeline(): boolean {
    return false;
  }

  private settle(worker: Worker, reply: FromWorker): void {
    const pending = this.waiting.get(worker);
    this.waiting.delete(worker);
    if (reply.type !== 'error') return pending?.resolve(reply);
    const error = new ShiftmixError(
      `a training worker failed: ${reply.message}`,
      reply.fix ?? 'Run with workers: 1 to see the error in this thread',
      reply.code ?? 'E_PARALLEL',
    );
    if (pending) pending.reject(error);
    else this.unclaimed ??= error;
  }

  private fail(worker: Worker, error: Error): void {
    const pending = this.waiting.get(worker);
    this.waiting.delete(worker);
    pending?.reject(error);
  }

  // Posts a message and waits for the worker's answer; an error answer rejects.
  private send(worker: Worker, message: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.waiting.set(worker, { resolve, reject });
      worker.postMessage(message, transfer);
    });
  }

  async step(batch: Batch, step: number): Promise<ClipAndApplyResult> {
    if (this.unclaimed) {
      tf.dispose([batch.x, batch.y]);
      throw this.unclaimed;
    }
    const [rows, length] = batch.x.shape;
    const xs = batch.x.dataSync() as Int32Array;
    const ys = batch.y.dataSync() as Int32Array;
    tf.dispose([batch.x, batch.y]);
    let sync: StepMessage['sync'];
    if (!this.synced) {
      const state = this.local.optimizer.getState();
      writeFlat(this.layout, this.model.weights(), this.shared.weights);
      writeFlat(this.layout, state.m, this.shared.m);
      writeFlat(this.layout, state.v, this.shared.v);
      sync = { optimizerStep: state.step };
      this.synced = true;
    }
    const phase = this.phase;
    this.phase = phase === 0 ? 1 : 0;
    const shards = shardRows(rows, this.workers.length + 1);
    const rngState = this.model.rng.state;
    const replies = this.workers.map((w, i) => {
      const [start, n] = shards[i + 1];
      const x = xs.slice(start * length, (start + n) * length);
      const y = ys.slice(start * length, (start + n) * length);
      // Each shard draws its own dropout seeds; this thread's rng advances as in one thread.
      const message: StepMessage = { type: 'step', x, y, rows: n, phase, rngState: mix32(rngState ^ Math.imul(i + 1, 0x9e3779b9)), sync };
      return this.send(w, message, [x.buffer, y.buffer]);
    });
    const [, n0] = shards[0];
    const x0 = tf.tensor2d(xs.subarray(0, n0 * length), [n0, length], 'int32');
    const y0 = tf.tensor2d(ys.subarray(0, n0 * length), [n0, length], 'int32');
    const own = this.local.gradients(x0, y0);
    writeFlat(this.layout, own.grads, this.slots[phase][0]);
    const parts = [{ loss: own.loss.dataSync()[0], count: ys.subarray(0, n0 * length).reduce((n, t) => n + (t >= 0 ? 1 : 0), 0) }];
    tf.dispose([x0, y0, own.loss, ...own.grads.values()]);
    for (const reply of await Promise.all(replies)) if (reply.type === 'grads') parts.push(reply);
    // Each shard's mean loss and gradient, weighted by the targets it scored.
    const total = parts.reduce((n, p) => n + p.count, 0);
    const weights = parts.map((p) => (total > 0 ? p.count / total : 1 / parts.length));
    const loss = parts.reduce((sum, p, s) => sum + weights[s] * p.loss, 0);
    for (const w of this.workers) w.postMessage({ type: 'apply', phase, weights, loss, step } satisfies ToWorker);
    weightedSum(this.slots[phase], weights, this.combined);
    return this.local.apply(readFlat(this.layout, this.combined), tf.scalar(loss), step);
  }

  /** Each worker's replica weights, in the order of model.weights() (to check that they stay equal). */
  async replicaWeights(): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const w of this.workers) {
      await this.send(w, { type: 'share' });
      out.push(this.shared.weights.slice());
    }
    return out;
  }

  /** Stops the workers; the model and optimizer stay with the caller. */
  async close(): Promise<void> {
    const pending = [...this.waiting.values()];
    this.waiting.clear();
    for (const p of pending) p.reject(new ShiftmixError('training stopped', '', 'E_PARALLEL'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
