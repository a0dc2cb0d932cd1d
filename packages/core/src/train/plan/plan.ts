import type { tf, Tensor } from '../../tf.js';
import { isExternal, type StepTrace, type TracedCall, type TracedWrite } from './trace.js';

// A step plan: the kernel calls of one traced step, with each input's source resolved
// (an earlier call's output, a weight or other tensor kept between steps, the batch, a
// constant), the attributes that change every step marked (the model's random draws,
// the optimizer's learning rate and step), and when each intermediate is released. Built
// from a trace, and accepted only when a second step's trace describes the same step.

type DataId = object;

export type Source =
  { kind: 'slot'; slot: number } | { kind: 'external'; index: number } | { kind: 'const'; index: number } | { kind: 'batch'; which: 'x' | 'y' };

/** Where an attribute's per-step value comes from. */
export type AttrSource = { draw: number; derive: 'seed' | 'uint' } | { param: string };

export interface AttrPatch {
  key: string;
  /** The element, when the attribute is a list. */
  index?: number;
  from: AttrSource;
}

export interface PlannedCall {
  kernel: string;
  kernelFunc: tf.KernelConfig['kernelFunc'];
  inputs: { name: string; source: Source; shape: number[]; dtype: tf.DataType }[];
  listInputs: boolean;
  attrs: tf.NamedAttrMap;
  patches: AttrPatch[];
  outSlots: number[];
  /** Slots of what the kernel keeps for its gradient (keepForGradient), in order. */
  hiddenSlots: number[];
  /** Slots whose last use this call is: one release per reference the step made. */
  release: number[];
  scope: string;
}

export interface StepPlan {
  backend: tf.KernelBackend;
  calls: PlannedCall[];
  slotCount: number;
  /** Tensors kept between steps (weights, moments, caches), read by their current data id. */
  externals: Tensor[];
  constants: TracedWrite[];
  /** Random draws the model takes per step. */
  draws: number;
  /** The slot read back at the end of the step (loss and the optimizer's report). */
  result: number;
}

export interface PlanInputs {
  batch: { x: Tensor; y: Tensor };
  /** Kernel name -> attributes supplied per step (the optimizer's lr and step). */
  stepAttrs: Record<string, readonly string[]>;
}

/** A plan, or why the step cannot be planned; `skeleton` compares two traces. */
export type Described = { plan: StepPlan; skeleton: string[] } | { reason: string; skeleton?: string[] };

const INT31 = 2147483647;

/** Turns one trace into a plan and its skeleton: each call as a line, sources and patches in words. */
export function describeTrace(trace: StepTrace, inputs: PlanInputs): Described {
  const sources = new Map<DataId, Source>();
  const externals: Tensor[] = [];
  const constants: TracedWrite[] = [];
  const slotRefs: number[] = [];
  const lastUse: number[] = [];
  const slotData: DataId[] = [];
  const calls: PlannedCall[] = [];
  const skeleton: string[] = [];
  const externalIds = new Set(trace.externals.values());

  const externalIndex = new Map<Tensor, number>();
  const sourceOf = (info: tf.TensorInfo): Source => {
    const tensor = info as Tensor;
    if (tensor === inputs.batch.x) return { kind: 'batch', which: 'x' };
    if (tensor === inputs.batch.y) return { kind: 'batch', which: 'y' };
    if (isExternal(info, { has: (id) => sources.has(id) }, trace)) {
      let index = externalIndex.get(tensor);
      if (index === undefined) externalIndex.set(tensor, (index = externals.push(tensor) - 1));
      return { kind: 'external', index };
    }
    let known = sources.get(info.dataId);
    if (!known) sources.set(info.dataId, (known = { kind: 'const', index: constants.push(trace.writes.get(info.dataId)!) - 1 }));
    return known;
  };

  let i = 0;
  const produce = (out: tf.TensorInfo): number => {
    const known = sources.get(out.dataId);
    const slot = known?.kind === 'slot' ? known.slot : slotRefs.length;
    if (slot === slotRefs.length) {
      slotRefs.push(0);
      slotData.push(out.dataId);
      sources.set(out.dataId, { kind: 'slot', slot });
    }
    slotRefs[slot] += 1;
    lastUse[slot] = i;
    return slot;
  };
  for (const call of trace.calls) {
    const planned: PlannedCall = {
      kernel: call.kernel,
      kernelFunc: call.kernelFunc,
      listInputs: call.listInputs,
      inputs: call.inputs.map(([name, info]) => {
        const source = sourceOf(info);
        if (source.kind === 'slot') lastUse[source.slot] = i;
        return { name, source, shape: [...info.shape], dtype: info.dtype };
      }),
      attrs: call.attrs,
      patches: findPatches(call, trace.draws, inputs.stepAttrs[call.kernel] ?? []),
      outSlots: call.outputs.map(produce),
      hiddenSlots: call.hidden.map(produce),
      release: [],
      scope: call.scope,
    };
    calls.push(planned);
    skeleton.push(skeletonLine(planned, call, constants, externals));
    i += 1;
  }

  const why = refusal(trace, sources, slotData, externalIds);
  if (why) return { reason: why, skeleton };
  const result = (sources.get(trace.reads[0].dataId) as { slot: number }).slot;
  const unlocated = trace.draws.findIndex((_, k) => !calls.some((c) => c.patches.some((p) => 'draw' in p.from && p.from.draw === k)));
  if (unlocated >= 0) return { reason: `draws a random number (draw ${unlocated + 1} of the step) that no kernel attribute carries`, skeleton };

  for (let slot = 0; slot < slotRefs.length; slot++) {
    if (slot === result) continue;
    for (let r = 0; r < slotRefs[slot]; r++) calls[lastUse[slot]].release.push(slot);
  }
  return { plan: { backend: trace.backend, calls, slotCount: slotRefs.length, externals, constants, draws: trace.draws.length, result }, skeleton };
}

// What stops a traced step from becoming a plan, in words a mixer's author can act on.
function refusal(trace: StepTrace, sources: Map<DataId, Source>, slotData: DataId[], externalIds: Set<DataId>): string | undefined {
  const [first, second] = trace.reads;
  if (!first) return 'reads nothing back at the end of the step';
  if (second) return `reads tensor data on the host during the step (in ${first.scope})`;
  if (sources.get(first.dataId)?.kind !== 'slot') return 'reads back a tensor the step did not compute';
  for (const [tensor, dataId] of trace.externals) {
    if (tensor.dataId !== dataId)
      return `assigns a new tensor to a weight during the step (${(tensor as { name?: string }).name ?? `a [${tensor.shape}] tensor`})`;
  }
  for (const dataId of slotData) {
    if (dataId !== first.dataId && !externalIds.has(dataId) && trace.backend.refCount(dataId) > 0) {
      const call = trace.calls.find((c) => c.outputs.some((o) => o.dataId === dataId))!;
      return `keeps a tensor made during the step (an output of ${call.kernel}, in ${call.scope})`;
    }
  }
  return undefined;
}

function findPatches(call: TracedCall, draws: number[], stepAttrs: readonly string[]): AttrPatch[] {
  const patches: AttrPatch[] = [];
  const locate = (value: unknown): AttrSource | undefined => {
    if (typeof value !== 'number') return undefined;
    for (const [k, raw] of draws.entries()) {
      if (value === raw % INT31) return { draw: k, derive: 'seed' };
      if (value === raw) return { draw: k, derive: 'uint' };
    }
    return undefined;
  };
  for (const [key, value] of Object.entries(call.attrs)) {
    if (stepAttrs.includes(key)) {
      patches.push({ key, from: { param: key } });
    } else if (Array.isArray(value)) {
      value.forEach((v, index) => {
        const from = locate(v);
        if (from) patches.push({ key, index, from });
      });
    } else {
      const from = locate(value);
      if (from) patches.push({ key, from });
    }
  }
  return patches;
}

// One call in words: kernel, inputs by source, attributes with per-step values as names.
function skeletonLine(planned: PlannedCall, call: TracedCall, constants: TracedWrite[], externals: Tensor[]): string {
  const source = (s: Source): string => {
    if (s.kind === 'slot') return `#${s.slot}`;
    if (s.kind === 'batch') return s.which;
    if (s.kind === 'const') return `const ${describeValues(constants[s.index])}`;
    return `ext ${externalKey(externals[s.index])}`;
  };
  const attrs: Record<string, unknown> = { ...call.attrs };
  for (const p of planned.patches) {
    const token = 'param' in p.from ? `<${p.from.param}>` : `<draw ${p.from.draw} ${p.from.derive}>`;
    if (p.index === undefined) attrs[p.key] = token;
    else attrs[p.key] = Object.assign([...(attrs[p.key] as unknown[])], { [p.index]: token });
  }
  const ins = planned.inputs.map((i) => `${i.name}=${source(i.source)}[${i.shape}]${i.dtype}`).join(' ');
  const outs = [...call.outputs, ...call.hidden].map((o, k) => `#${[...planned.outSlots, ...planned.hiddenSlots][k]}[${o.shape}]${o.dtype}`).join(' ');
  return `${call.kernel}(${ins}) ${stableString(attrs)} -> ${outs}`;
}

// Tensors kept between steps are the same objects in both traces.
const externalIds = new WeakMap<object, number>();
let nextExternal = 0;
function externalKey(t: Tensor): number {
  let id = externalIds.get(t);
  if (id === undefined) externalIds.set(t, (id = nextExternal++));
  return id;
}

// Small constants in full, larger data (a mask made on the host) by a hash of its bytes.
function describeValues(w: TracedWrite): string {
  if (w.values == null || !ArrayBuffer.isView(w.values)) return `[${w.shape}]${w.dtype}:${String(w.values)}`;
  const view = w.values as Float32Array;
  if (view.length <= 16) return `[${w.shape}]${w.dtype}:${Array.from(view).join(',')}`;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return `[${w.shape}]${w.dtype}:#${hash.toString(16)}`;
}

function stableString(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `[${Array.from(value as Float32Array).join(',')}]`;
  if (Array.isArray(value)) return `[${value.map(stableString).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${k}:${stableString((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return Object.is(value, -0) ? '-0' : String(value);
}

/** The first call where two traces' skeletons differ, in words, or undefined when they are the same step. */
export function firstDifference(a: string[], b: string[], scopes: string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      if (a[i] === undefined || b[i] === undefined) return `runs ${a.length} kernels in one step and ${b.length} in the next`;
      return `changes kernel ${i + 1} of the step between steps (${b[i].slice(0, b[i].indexOf('('))}, in ${scopes[i]})`;
    }
  }
  return undefined;
}
