import type { Rng } from '../../rng.js';
import { tf, type Tensor } from '../../tf.js';
import { describeTrace, firstDifference, type Described } from './plan.js';
import { stepCompiler, type CompiledStep } from './compile.js';
import { disposePlan, planIsStale, preparePlan, readResult, replayPlan, type ReadyPlan } from './replay.js';
import { traceStep, type TraceScope } from './trace.js';

// One plan per (backend, batch shape): the first steps of a shape run eagerly and are
// traced, and once two consecutive traces describe the same step, later steps of that
// shape replay it. A shape whose steps cannot be planned stays eager, and says why once.

/** Traced steps a shape gets to settle (lazy set-up in its first step) before it stays eager. */
const MAX_TRACES = 3;

interface ShapePlans {
  traces: number;
  last?: Described;
  ready?: ReadyPlan;
  refused?: string;
  /** The backend's compiled form of the plan (see compile.ts), once compiling succeeded. */
  compiled?: CompiledStep;
  /** Whether compiling was tried for this plan. */
  compileTried?: boolean;
}

export interface PlannerOptions {
  rng: Rng;
  /** Kernel name -> attributes the caller supplies every step. */
  stepAttrs: Record<string, readonly string[]>;
  /** Methods whose kernels a refusal names (each block's mixer). */
  scopes?: TraceScope[];
  /** Told once per shape that stays eager, and why. */
  onNote?: (message: string) => void;
}

/** What a replayed step returns: how to read its result, [loss, norm, applied]. */
export interface Replayed {
  read(): Promise<Float32Array>;
}

export interface PlanStatus {
  /** Batch shapes ("backend x[B,T] y[B,T]") whose steps replay a plan. */
  planned: string[];
  /** Those of them the backend compiled (WebGPU: recorded dispatches encoded again). */
  compiled: string[];
  /** Batch shapes that take the eager step, and why. */
  eager: Record<string, string>;
  /** How the last step ran: eager (also while a shape is being recorded), replayed kernel by kernel, or compiled. */
  last?: 'eager' | 'planned' | 'compiled';
}

export class StepPlanner {
  private readonly shapes = new Map<string, ShapePlans>();
  private last: PlanStatus['last'];
  // Resolves once the last step started is queued (see step).
  private gate: Promise<void> = Promise.resolve();

  constructor(private readonly options: PlannerOptions) {}

  /** Shapes with a plan (and those of them the backend compiled), and shapes that stay eager with their reasons. */
  get status(): PlanStatus {
    const status: PlanStatus = { planned: [], compiled: [], eager: {}, last: this.last };
    for (const [key, s] of this.shapes) {
      if (s.ready) status.planned.push(key);
      if (s.compiled) status.compiled.push(key);
      if (s.refused) status.eager[key] = s.refused;
    }
    return status;
  }

  /**
   * The step on `batch`: replayed when its shape has a plan (`params` gives the per-step
   * attributes, `finish` reads the result), else `eager` runs, traced while the shape is
   * still being planned. Steps start in call order, each once the one before is queued
   * (a traced step: once it is done), so the model's random draws keep their order.
   */
  step<R>(
    batch: { x: Tensor; y: Tensor },
    eager: () => Promise<R>,
    params: () => Record<string, number>,
    finish: (replayed: Replayed) => Promise<R>,
  ): Promise<R> {
    const started = this.gate.then(() => this.begin(batch, eager, params, finish));
    this.gate = started.then(
      () => undefined,
      () => undefined,
    );
    return started.then((s) => s.result);
  }

  private async begin<R>(
    batch: { x: Tensor; y: Tensor },
    eager: () => Promise<R>,
    params: () => Record<string, number>,
    finish: (replayed: Replayed) => Promise<R>,
  ): Promise<{ result: Promise<R> }> {
    const key = `${tf.getBackend()} x[${batch.x.shape}] y[${batch.y.shape}]`;
    let shape = this.shapes.get(key);
    if (!shape) this.shapes.set(key, (shape = { traces: 0 }));
    if (shape.ready && (shape.ready.plan.backend !== tf.engine().backend || planIsStale(shape.ready))) this.forget(shape);
    if (shape.compiled?.stale()) this.decompile(shape);
    if (shape.ready) {
      const ready = shape.ready;
      const inputs = { batch, params: params(), rng: this.options.rng };
      if (shape.compiled) {
        this.last = 'compiled';
        return { result: finish({ read: shape.compiled.run(inputs) }) };
      }
      this.last = 'planned';
      const compile = shape.compileTried ? undefined : stepCompiler(tf.getBackend());
      if (compile) {
        shape.compileTried = true;
        const out = await compile(ready, inputs);
        if ('compiled' in out) shape.compiled = out.compiled;
        else
          this.options.onNote?.(`training steps for ${key} replay kernel by kernel: the ${tf.getBackend()} backend did not compile the plan (${out.reason})`);
        return { result: finish({ read: () => Promise.resolve(out.values) }) };
      }
      const result = replayPlan(ready, inputs);
      return { result: finish({ read: () => readResult(ready, result) }) };
    }
    this.last = 'eager';
    if (shape.refused) return { result: eager() };
    const { result, trace } = await traceStep(eager, this.options.rng, this.options.scopes);
    this.learn(shape, key, describeTrace(trace, { batch, stepAttrs: this.options.stepAttrs }));
    return { result: Promise.resolve(result) };
  }

  // A plan once two consecutive traces describe the same step; eager for good after MAX_TRACES.
  private learn(shape: ShapePlans, key: string, described: Described): void {
    shape.traces += 1;
    const previous = shape.last;
    shape.last = described;
    if ('plan' in described && previous && 'plan' in previous) {
      const scopes = described.plan.calls.map((c) => c.scope);
      const difference = firstDifference(previous.skeleton, described.skeleton, scopes);
      if (!difference) shape.ready = preparePlan(described.plan);
      else if (shape.traces >= MAX_TRACES) this.refuse(shape, key, difference);
    } else if (shape.traces >= MAX_TRACES) {
      this.refuse(shape, key, 'reason' in described ? described.reason : 'changes between its first steps');
    }
    if (shape.ready || shape.refused) shape.last = undefined;
  }

  /** Frees every plan's constants. */
  dispose(): void {
    for (const shape of this.shapes.values()) this.forget(shape);
    this.shapes.clear();
  }

  private decompile(shape: ShapePlans): void {
    shape.compiled?.dispose();
    shape.compiled = undefined;
    shape.compileTried = false;
  }

  private forget(shape: ShapePlans): void {
    this.decompile(shape);
    if (shape.ready) disposePlan(shape.ready);
    shape.ready = undefined;
    shape.traces = 0;
  }

  private refuse(shape: ShapePlans, key: string, reason: string): void {
    shape.refused = reason;
    this.options.onNote?.(`eager training steps for ${key}: the step ${reason}`);
  }
}
