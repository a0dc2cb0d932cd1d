/// <reference types="@webgpu/types" />
import { tf, type Tensor } from '@shiftmix/core';
import { callAttrs, takeDraws, type CompiledStep, type PlannedCall, type ReadyPlan, type ReplayInputs } from '@shiftmix/core/kernels';
import { dispatchHooks } from '../runtime.js';
import { flushBackend, type Command, type RecordingBackend, type Tape } from './record.js';

// A training step as llm.c runs one: the recorded dispatches, encoded again each step into
// one command encoder and submitted once, over buffers owned from the recording on. Per step
// the host writes the batch's tokens into their buffers, remakes the uniforms of the few
// dispatches whose values change (dropout seeds, the optimizer's lr and step), and reads
// [loss, norm, applied] back through a ring of staging buffers, so steps can be queued
// behind each other.

const RESULT_BYTES = 12;
const STAGING_RING = 3;

/** What the recorded step used that a compiled step needs beside its tape. */
export interface Recorded {
  tape: Tape;
  batch: { x: Tensor; y: Tensor };
  result: GPUBuffer;
}

interface Dynamic {
  call: PlannedCall;
  /** Where each of its dispatches' uniforms start in the arena, in 32-bit words. */
  offsets: number[];
  /** The values each dispatch's uniforms hold: one whose values did not change is not written. */
  written: number[][];
}

/**
 * The uniforms of every dispatch whose values change per step, in one buffer at aligned
 * offsets (their bind groups made again to bind their range), so a step writes them with
 * one upload instead of one per dispatch.
 */
interface Arena {
  buffer: GPUBuffer;
  data: Int32Array;
}

export class CompiledWebGpuStep implements CompiledStep {
  private readonly staging: GPUBuffer[] = [];

  private constructor(
    private readonly be: RecordingBackend,
    private readonly ready: ReadyPlan,
    private readonly commands: Command[],
    private readonly batch: { x: GPUBuffer; y: GPUBuffer },
    private readonly result: GPUBuffer,
    private readonly externals: Map<Tensor, GPUBuffer>,
    private readonly owned: GPUBuffer[],
    private readonly dynamic: Dynamic[],
    private readonly arena: Arena | undefined,
  ) {
    for (let i = 0; i < STAGING_RING; i++) this.staging.push(this.stagingBuffer());
  }

  /**
   * Takes the recorded step's buffers out of the backend's pool (they are this step's from
   * now on) and checks that the tape can be replayed; a reason when it cannot.
   */
  static create(backend: unknown, ready: ReadyPlan, recorded: Recorded): CompiledWebGpuStep | string {
    const be = backend as RecordingBackend;
    const { tape } = recorded;
    if (tape.problems.length) return tape.problems.join('; ');
    const resource = (dataId: object) => be.tensorMap.get(dataId)?.resource as GPUBuffer | undefined;
    const externals = new Map(ready.plan.externals.map((t) => [t, resource(t.dataId)!]));
    const live = new Set<GPUBuffer | undefined>([...externals.values(), ...ready.constants.map(resource)]);
    const x = resource(recorded.batch.x.dataId);
    const y = resource(recorded.batch.y.dataId);
    if (!x || !y) return 'the batch was not on the device';
    // The batch, the constants and the weights went to the device before the recording.
    if (tape.uploads.size) return 'a kernel ran on the host and uploaded its result (set WEBGPU_CPU_FORWARD to false)';
    const dynamic: (Omit<Dynamic, 'offsets'> & { buffers: GPUBuffer[] })[] = [];
    for (const [index, call] of ready.plan.calls.entries()) {
      if (call.patches.length === 0) continue;
      const uniforms = tape.uniforms.get(index) ?? [];
      const dispatches = tape.commands.filter((c) => c.call === index).length;
      if (dispatches !== uniforms.length) return `${call.kernel}, whose attributes change every step, dispatches programs whose uniforms cannot be remade`;
      const again = dryRun(be, ready, call, tape.attrs[index]);
      if (again === undefined || JSON.stringify(again) !== JSON.stringify(uniforms.map((u) => u.values))) {
        return `${call.kernel}'s uniforms cannot be remade apart from its dispatches`;
      }
      dynamic.push({ call, buffers: uniforms.map((u) => u.buffer), written: uniforms.map((u) => u.values) });
    }
    const owned = [...tape.buffers].filter((b) => !live.has(b) && b !== x && b !== y);
    const held = owned.filter((b) => !inPool(be, 'free', b));
    if (held.length) return `${held.length} buffer(s) the step binds are still held by tensors`;
    for (const b of owned) takeFrom(be, 'free', b);
    // The recorded batch's buffers become the step's own: its tensors let go of them.
    for (const [t, b] of [
      [recorded.batch.x, x],
      [recorded.batch.y, y],
    ] as const) {
      be.tensorMap.get(t.dataId)!.resource = undefined;
      takeFrom(be, 'used', b);
    }
    const { commands, arena, offsets } = arenaFor(be.device, tape.commands, dynamic);
    const placed = dynamic.map(({ call, written }, k) => ({ call, written, offsets: offsets[k] }));
    return new CompiledWebGpuStep(be, ready, commands, { x, y }, recorded.result, externals, [...owned, x, y], placed, arena);
  }

  stale(): boolean {
    for (const [t, buffer] of this.externals) {
      if (t.isDisposed || this.be.tensorMap.get(t.dataId)?.resource !== buffer) return true;
    }
    return false;
  }

  run(inputs: ReplayInputs): () => Promise<Float32Array> {
    const { be } = this;
    const draws = takeDraws(this.ready.plan, inputs.rng);
    let low = Infinity;
    let high = 0;
    for (const { call, offsets, written } of this.dynamic) {
      const values = dryRun(be, this.ready, call, callAttrs(call, draws, inputs.params))!;
      values.forEach((v, k) => {
        if (sameValues(v, written[k])) return;
        this.arena!.data.set(v, offsets[k]);
        written[k] = v;
        low = Math.min(low, offsets[k]);
        high = Math.max(high, offsets[k] + v.length);
      });
    }
    if (high > low) be.queue.writeBuffer(this.arena!.buffer, low * 4, this.arena!.data.buffer, low * 4, (high - low) * 4);
    // Work tfjs has encoded but not submitted goes first: it may read the weights this step updates.
    flushBackend(be);
    // The step writes the weights and moments in place, outside tfjs: a host copy that an
    // earlier read cached (a checkpoint's, at an evaluation) would be read again, stale.
    for (const t of this.externals.keys()) be.tensorMap.get(t.dataId)!.values = null;
    const encoder = be.device.createCommandEncoder();
    this.writeBatch(encoder, inputs.batch.x, this.batch.x);
    this.writeBatch(encoder, inputs.batch.y, this.batch.y);
    let pass = encoder.beginComputePass();
    let pipeline: GPUComputePipeline | undefined;
    for (const c of this.commands) {
      if (c.kind === 'dispatch') {
        if (c.pipeline !== pipeline) pass.setPipeline((pipeline = c.pipeline));
        pass.setBindGroup(0, c.bindGroup);
        // Each argument is converted by the binding: a one-dimensional grid passes one.
        const [x, y, z] = c.grid;
        if (y === 1 && z === 1) pass.dispatchWorkgroups(x);
        else pass.dispatchWorkgroups(x, y, z);
      } else {
        pass.end();
        encoder.copyBufferToBuffer(c.source, c.sourceOffset, c.target, c.targetOffset, c.size);
        pass = encoder.beginComputePass();
        pipeline = undefined;
      }
    }
    pass.end();
    const staging = this.staging.pop() ?? this.stagingBuffer();
    encoder.copyBufferToBuffer(this.result, 0, staging, 0, RESULT_BYTES);
    be.queue.submit([encoder.finish()]);
    const mapped = staging.mapAsync(GPUMapMode.READ);
    return async () => {
      await mapped;
      const values = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      this.staging.push(staging);
      return values;
    };
  }

  dispose(): void {
    for (const b of this.owned) giveBack(this.be, b);
    this.owned.length = 0;
    for (const b of this.staging) b.destroy();
    this.staging.length = 0;
    this.arena?.buffer.destroy();
  }

  // The batch's tokens into the recorded step's batch buffer: from the host, or copied on the device.
  private writeBatch(encoder: GPUCommandEncoder, t: Tensor, buffer: GPUBuffer): void {
    const data = this.be.tensorMap.get(t.dataId)!;
    const values = data.values as Int32Array | null | undefined;
    if (values) this.be.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
    else encoder.copyBufferToBuffer(data.resource as GPUBuffer, 0, buffer, 0, buffer.size);
  }

  private stagingBuffer(): GPUBuffer {
    return this.be.device.createBuffer({ size: RESULT_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }
}

/**
 * Moves the dynamic dispatches' uniforms into one arena: each gets an aligned range, holding
 * the values it was recorded with, and its dispatch a bind group that binds that range.
 */
function arenaFor(
  device: GPUDevice,
  recorded: Command[],
  dynamic: { buffers: GPUBuffer[]; written: number[][] }[],
): { commands: Command[]; arena?: Arena; offsets: number[][] } {
  const all = dynamic.flatMap((d) => d.buffers);
  if (all.length === 0) return { commands: recorded, offsets: [] };
  const align = device.limits.minUniformBufferOffsetAlignment;
  const stride = Math.ceil(Math.max(...all.map((b) => b.size)) / align) * align;
  const data = new Int32Array((all.length * stride) / 4);
  const slotOf = new Map<GPUBuffer, number>();
  const offsets = dynamic.map((d) =>
    d.buffers.map((b, k) => {
      const offset = (slotOf.size * stride) / 4;
      slotOf.set(b, offset);
      data.set(d.written[k], offset);
      return offset;
    }),
  );
  const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  const commands = recorded.map((c) => {
    if (c.kind !== 'dispatch') return c;
    const entries = [...c.group.entries];
    let moved = false;
    entries.forEach((entry, k) => {
      const resource = entry.resource as GPUBufferBinding;
      const offset = slotOf.get(resource.buffer);
      if (offset === undefined) return;
      entries[k] = { binding: entry.binding, resource: { buffer, offset: offset * 4, size: resource.size ?? resource.buffer.size } };
      moved = true;
    });
    if (!moved) return c;
    const group = { ...c.group, entries };
    return { ...c, group, bindGroup: device.createBindGroup(group) };
  });
  return { commands, arena: { buffer, data }, offsets };
}

function sameValues(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs `call`'s kernel with runProgram recording nothing, to get the uniforms its dispatches
 * would have for `attrs`; inputs the step computes are stand-ins of their shape.
 */
function dryRun(be: RecordingBackend, ready: ReadyPlan, call: PlannedCall, attrs: tf.NamedAttrMap): number[][] | undefined {
  const named: Record<string, tf.TensorInfo> = {};
  for (const input of call.inputs) {
    const s = input.source;
    const dataId = s.kind === 'external' ? ready.plan.externals[s.index].dataId : s.kind === 'const' ? ready.constants[s.index] : {};
    named[input.name] = { dataId, shape: input.shape, dtype: input.dtype };
  }
  const got: number[][] = [];
  dispatchHooks.dryRun = (values) => void got.push([...values]);
  try {
    const out = call.kernelFunc({ inputs: call.listInputs ? Object.values(named) : named, attrs, backend: be } as never);
    for (const o of Array.isArray(out) ? out : [out]) (be as unknown as tf.KernelBackend).disposeData((o as tf.TensorInfo).dataId);
  } catch {
    return undefined;
  } finally {
    dispatchHooks.dryRun = undefined;
  }
  return got;
}

type Pool = RecordingBackend['bufferManager'] & { usedBuffers: Map<string, GPUBuffer[]>; numUsedBuffers: number; numBytesUsed: number };

function poolList(be: RecordingBackend, list: 'free' | 'used', buffer: GPUBuffer): GPUBuffer[] | undefined {
  const pool = be.bufferManager as Pool;
  return (list === 'free' ? pool.freeBuffers : pool.usedBuffers).get(`${buffer.size}_${buffer.usage}`);
}

function inPool(be: RecordingBackend, list: 'free' | 'used', buffer: GPUBuffer): boolean {
  return (poolList(be, list, buffer)?.indexOf(buffer) ?? -1) >= 0;
}

// Moves a buffer out of the backend's pool (its free or its used list): the compiled step owns it.
function takeFrom(be: RecordingBackend, list: 'free' | 'used', buffer: GPUBuffer): boolean {
  const pool = be.bufferManager as Pool;
  const buffers = poolList(be, list, buffer);
  const index = buffers?.indexOf(buffer) ?? -1;
  if (index < 0) return false;
  buffers!.splice(index, 1);
  if (list === 'free') pool.numFreeBuffers--;
  else {
    pool.numUsedBuffers--;
    pool.numBytesUsed -= buffer.size;
  }
  return true;
}

function giveBack(be: RecordingBackend, buffer: GPUBuffer): void {
  const pool = be.bufferManager;
  const key = `${buffer.size}_${buffer.usage}`;
  if (!pool.freeBuffers.has(key)) pool.freeBuffers.set(key, []);
  pool.freeBuffers.get(key)!.push(buffer);
  pool.numFreeBuffers++;
}
