import { ShiftmixError } from '../../errors.js';
import { observeKeptForGradient } from '../../kernels/saved.js';
import type { Rng } from '../../rng.js';
import type { tf, Tensor } from '../../tf.js';
import type { AttrPatch, PlannedCall, Source, StepPlan } from './plan.js';

// Replays a plan: each recorded kernel function is called again on this step's data,
// with none of tfjs's per-op work (no tensors, tape, scopes or gradient functions), and
// each intermediate is released after its last use.

type DataId = object;
const INT31 = 2147483647;

/** A plan with its constants written to the backend, ready to run every step. */
export interface ReadyPlan {
  plan: StepPlan;
  constants: DataId[];
}

export function preparePlan(plan: StepPlan): ReadyPlan {
  const constants = plan.constants.map((c) => plan.backend.write(c.values as tf.backend_util.BackendValues, c.shape, c.dtype));
  return { plan, constants };
}

/** Frees what the plan holds (its constants); the plan must not run again. */
export function disposePlan(ready: ReadyPlan): void {
  for (const dataId of ready.constants) ready.plan.backend.disposeData(dataId);
  ready.constants.length = 0;
}

/** Whether a tensor the plan reads between steps was disposed: then the step is planned again. */
export function planIsStale(ready: ReadyPlan): boolean {
  return ready.plan.externals.some((t) => t.isDisposed);
}

export interface ReplayInputs {
  batch: { x: Tensor; y: Tensor };
  /** Per-step attributes by name (lr, step), for the calls whose patches name them. */
  params: Record<string, number>;
  /** The model's generator: the plan takes as many draws as the traced step did. */
  rng: Rng;
}

/** A replayed step's result: its data id, and how many references to it the caller releases once read. */
export interface ReplayResult {
  dataId: DataId;
  refs: number;
}

export interface ReplayHooks {
  /** Called before each kernel call with its index in the plan and its attributes this step (a backend recording the step). */
  beforeCall?(index: number, attrs: tf.NamedAttrMap): void;
}

/** The model's random draws for one step of `plan`, taken in the order the eager step takes them. */
export function takeDraws(plan: StepPlan, rng: Rng): number[] {
  return Array.from({ length: plan.draws }, () => rng.nextUint32());
}

/**
 * Runs one step of `ready` and returns its result's data id (see readResult). Synchronous:
 * on a GPU the work is queued, not done.
 */
export function replayPlan(ready: ReadyPlan, inputs: ReplayInputs, hooks: ReplayHooks = {}): ReplayResult {
  const { plan } = ready;
  const draws = takeDraws(plan, inputs.rng);
  const slots: DataId[] = new Array(plan.slotCount);
  const refs = new Array<number>(plan.slotCount).fill(0);
  const backend = plan.backend;
  const resolve = (source: Source): DataId => {
    switch (source.kind) {
      case 'slot':
        return slots[source.slot];
      case 'external':
        return plan.externals[source.index].dataId;
      case 'const':
        return ready.constants[source.index];
      case 'batch':
        return inputs.batch[source.which].dataId;
    }
  };
  // What a kernel keeps for its gradient is the plan's to release, after the call that reads it.
  let hidden: tf.TensorInfo[] = [];
  observeKeptForGradient((extra) => hidden.push(extra) > 0);
  try {
    for (const [index, call] of plan.calls.entries()) {
      const attrs = callAttrs(call, draws, inputs.params);
      hooks.beforeCall?.(index, attrs);
      const named: tf.NamedTensorInfoMap | tf.TensorInfo[] = call.listInputs ? [] : {};
      for (const input of call.inputs) (named as tf.NamedTensorInfoMap)[input.name] = { dataId: resolve(input.source), shape: input.shape, dtype: input.dtype };
      hidden = [];
      const out = call.kernelFunc({ inputs: named, attrs, backend } as never) as tf.TensorInfo | tf.TensorInfo[];
      const outs = Array.isArray(out) ? out : [out];
      for (let k = 0; k < outs.length; k++) {
        slots[call.outSlots[k]] = outs[k].dataId;
        refs[call.outSlots[k]] += 1;
      }
      for (let k = 0; k < call.hiddenSlots.length; k++) slots[call.hiddenSlots[k]] = hidden[k].dataId;
      for (const slot of call.release) backend.disposeData(slots[slot]);
    }
  } finally {
    observeKeptForGradient(undefined);
  }
  return { dataId: slots[plan.result], refs: refs[plan.result] };
}

/** Reads a replayed step's result and releases it. */
export async function readResult(ready: ReadyPlan, result: ReplayResult): Promise<Float32Array> {
  const backend = ready.plan.backend;
  const values = (await backend.read(result.dataId)) as Float32Array;
  for (let r = 0; r < result.refs; r++) backend.disposeData(result.dataId);
  return values;
}

/** A call's attributes for this step: as recorded, with the per-step values patched in. */
export function callAttrs(call: PlannedCall, draws: number[], params: Record<string, number>): tf.NamedAttrMap {
  if (call.patches.length === 0) return call.attrs;
  const attrs: Record<string, unknown> = { ...call.attrs };
  for (const p of call.patches) {
    const value = valueOf(p, draws, params, call);
    if (p.index === undefined) attrs[p.key] = value;
    else {
      // Copied once per call: the recorded list stays as traced.
      if (attrs[p.key] === call.attrs[p.key]) attrs[p.key] = [...(call.attrs[p.key] as number[])];
      (attrs[p.key] as number[])[p.index] = value;
    }
  }
  return attrs as tf.NamedAttrMap;
}

function valueOf(p: AttrPatch, draws: number[], params: Record<string, number>, call: PlannedCall): number {
  if ('param' in p.from) {
    const value = params[p.from.param];
    if (value === undefined) {
      throw new ShiftmixError(`the planned step needs "${p.from.param}" for ${call.kernel}`, 'Pass it in the replay inputs, or take the eager step', 'E_PLAN');
    }
    return value;
  }
  const raw = draws[p.from.draw];
  return p.from.derive === 'seed' ? raw % INT31 : raw;
}
