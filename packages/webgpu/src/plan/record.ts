/// <reference types="@webgpu/types" />
import type { tf } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { dispatchHooks } from '../runtime.js';

// Records what one replayed training step encodes on the device, whichever code encodes it
// (tfjs's own programs or ours): each dispatch's pipeline, bind group and workgroup grid,
// each copy between buffers, the buffers every bind group binds, and, for the dispatches of
// our programs, their uniform buffer and values. Uploads of host data are left out: a
// compiled step writes the batch itself and keeps the uploaded constants.

export type Command =
  | {
      kind: 'dispatch';
      call: number;
      pipeline: GPUComputePipeline;
      bindGroup: GPUBindGroup;
      /** What the bind group was made from, so a compiled step can make it again with other buffers. */
      group: GPUBindGroupDescriptor;
      grid: [number, number, number];
    }
  | { kind: 'copy'; call: number; source: GPUBuffer; sourceOffset: number; target: GPUBuffer; targetOffset: number; size: number };

export interface Tape {
  commands: Command[];
  /** Every buffer a recorded bind group binds, or a copy reads or writes. */
  buffers: Set<GPUBuffer>;
  /** Per call, the uniform buffer and values of each of our programs' dispatches, in order. */
  uniforms: Map<number, { buffer: GPUBuffer; values: number[] }[]>;
  /** Each call's attributes in the recorded step. */
  attrs: tf.NamedAttrMap[];
  /** Data uploaded from the host during the step, by data id, and the buffer it went to. */
  uploads: Map<object, GPUBuffer>;
  /** What the step did that a recording cannot repeat; empty when it can be replayed. */
  problems: string[];
}

/** The members of tfjs-backend-webgpu 4.22's WebGPUBackend a recording reaches. */
export interface RecordingBackend {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown } | undefined };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  bufferManager: { freeBuffers: Map<string, GPUBuffer[]>; numFreeBuffers: number };
  uploadToGPU(dataId: object): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** Submits what tfjs has encoded but not submitted, so that work queued later runs after it. */
export function flushBackend(be: RecordingBackend): void {
  be.endComputePassEncoder();
  if (be.commandEncoder) be.submitQueue();
}

/**
 * Runs `step` (a kernel-by-kernel replay, which calls `setCall` before each kernel) while
 * recording its commands; restores the device and backend after.
 */
export function recordStep<T>(backend: WebGPUBackend, step: (setCall: (index: number, attrs: tf.NamedAttrMap) => void) => T): { result: T; tape: Tape } {
  const be = backend as unknown as RecordingBackend;
  const tape: Tape = { commands: [], buffers: new Set(), uniforms: new Map(), attrs: [], uploads: new Map(), problems: [] };
  let call = -1;
  let uploading = 0;
  const undo: (() => void)[] = [];
  const patch = <O extends object>(target: O, key: string, value: unknown) => {
    const record = target as Record<string, unknown>;
    const own = Object.prototype.hasOwnProperty.call(record, key);
    const before = record[key];
    record[key] = value;
    undo.push(() => (own ? (record[key] = before) : delete record[key]));
  };
  const problem = (what: string) => {
    if (!tape.problems.includes(what)) tape.problems.push(what);
  };

  flushBackend(be);
  const bindGroupBuffers = new WeakMap<GPUBindGroup, { descriptor: GPUBindGroupDescriptor; buffers: GPUBuffer[] }>();
  const createBindGroup = be.device.createBindGroup.bind(be.device);
  patch(be.device, 'createBindGroup', (descriptor: GPUBindGroupDescriptor) => {
    const group = createBindGroup(descriptor);
    const buffers: GPUBuffer[] = [];
    for (const entry of descriptor.entries) {
      const resource = entry.resource as GPUBufferBinding;
      if (resource && 'buffer' in resource) buffers.push(resource.buffer);
      else problem('a bind group binds something other than a buffer');
    }
    bindGroupBuffers.set(group, { descriptor, buffers });
    return group;
  });

  const createEncoder = be.device.createCommandEncoder.bind(be.device);
  patch(be.device, 'createCommandEncoder', (descriptor?: GPUCommandEncoderDescriptor) => {
    const encoder = createEncoder(descriptor);
    const copy = encoder.copyBufferToBuffer.bind(encoder) as (...args: unknown[]) => void;
    encoder.copyBufferToBuffer = ((...args: unknown[]) => {
      if (!uploading) {
        if (args.length !== 5) problem('a copy between buffers takes a form the recording does not know');
        else {
          const [source, sourceOffset, target, targetOffset, size] = args as [GPUBuffer, number, GPUBuffer, number, number];
          tape.commands.push({ kind: 'copy', call, source, sourceOffset, target, targetOffset, size });
          tape.buffers.add(source).add(target);
        }
      }
      copy(...args);
    }) as GPUCommandEncoder['copyBufferToBuffer'];
    const begin = encoder.beginComputePass.bind(encoder);
    encoder.beginComputePass = (passDescriptor?: GPUComputePassDescriptor) => {
      if (passDescriptor?.timestampWrites) problem('a pass writes timestamps (a profiler is running)');
      const pass = begin(passDescriptor);
      let pipeline: GPUComputePipeline | undefined;
      let bindGroup: GPUBindGroup | undefined;
      const setPipeline = pass.setPipeline.bind(pass);
      pass.setPipeline = (p: GPUComputePipeline) => setPipeline((pipeline = p));
      const setBindGroup = pass.setBindGroup.bind(pass) as (i: number, g: GPUBindGroup | null) => void;
      pass.setBindGroup = ((index: number, group: GPUBindGroup | null, ...rest: unknown[]) => {
        if (index !== 0 || rest.length > 0 || !group) problem('a dispatch uses bind groups past group 0 or dynamic offsets');
        bindGroup = group ?? undefined;
        setBindGroup(index, group);
      }) as GPUComputePassEncoder['setBindGroup'];
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x: number, y = 1, z = 1) => {
        const made = bindGroup && bindGroupBuffers.get(bindGroup);
        if (!pipeline || !bindGroup || !made) problem('a dispatch binds a group made before the recording');
        else {
          tape.commands.push({ kind: 'dispatch', call, pipeline, bindGroup, group: made.descriptor, grid: [x, y, z] });
          for (const b of made.buffers) tape.buffers.add(b);
        }
        dispatch(x, y, z);
      };
      pass.dispatchWorkgroupsIndirect = () => void problem('a dispatch is indirect');
      return pass;
    };
    return encoder;
  });

  // tfjs returns a uniform buffer to the pool when it submits, and may hand it to a later
  // dispatch of the same step, writing it anew from the host: encoded in one submission,
  // both dispatches would read the last values. So each recorded dispatch gets its own.
  const manager = be.bufferManager as unknown as { acquireBuffer(size: number, usage: number, mapped?: boolean, reuse?: boolean): GPUBuffer };
  const acquire = manager.acquireBuffer.bind(manager);
  patch(manager, 'acquireBuffer', (size: number, usage: number, mapped = false, reuse = true) =>
    acquire(size, usage, mapped, reuse && (usage & GPUBufferUsage.UNIFORM) === 0),
  );

  const upload = be.uploadToGPU.bind(be);
  patch(be, 'uploadToGPU', (dataId: object) => {
    const data = be.tensorMap.get(dataId);
    const fromHost = data && data.resource == null && data.values != null;
    uploading += 1;
    try {
      upload(dataId);
    } finally {
      uploading -= 1;
    }
    if (fromHost) tape.uploads.set(dataId, be.tensorMap.get(dataId)!.resource as GPUBuffer);
  });

  dispatchHooks.uniforms = (buffer, values) => {
    let list = tape.uniforms.get(call);
    if (!list) tape.uniforms.set(call, (list = []));
    list.push({ buffer, values: [...values] });
  };
  undo.push(() => (dispatchHooks.uniforms = undefined));

  try {
    const result = step((index, attrs) => {
      call = index;
      tape.attrs[index] = attrs;
    });
    flushBackend(be);
    return { result, tape };
  } finally {
    for (const restore of undo.reverse()) restore();
  }
}
