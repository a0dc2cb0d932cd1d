/// <reference types="@webgpu/types" />
import { ShiftmixError, tf } from '@shiftmix/core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** The tfjs backend name the fused kernels implement. */
export const WEBGPU_BACKEND = 'webgpu';

const tunings = new Map<string, Record<string, number>>();

/** Declares the launch settings of kernel `name` (live: a change applies to the next launch). */
export function declareTuning<T extends Record<string, number>>(name: string, tuning: T): T {
  tunings.set(name, tuning);
  return tuning;
}

/** The launch settings of kernel `name`, which benchmarks sweep and tests pin; undefined when it has none. */
export function kernelTuning(name: string): Record<string, number> | undefined {
  return tunings.get(name);
}

/**
 * A fused kernel in the shape of tfjs-backend-webgpu's WebGPUProgram, except that it
 * may write several outputs: tfjs programs bind exactly one `result` buffer, and the
 * backward kernels here write dU together with the partial sums of da and db (or dG
 * with dV) in one pass over memory.
 */
export interface ShiftmixProgram {
  /** Read-write outputs, bound first in this order. */
  outputNames: string[];
  /** Read-only inputs, bound after the outputs. */
  variableNames: string[];
  /** 4 when a binding is read as vec4<f32>, else 1; one entry per output then input. */
  components: number[];
  /** Names of the i32 fields of `uniforms` (values are passed per run); none: no binding. */
  uniformNames: string[];
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];
  /** Identifies the generated WGSL: everything baked into getUserCode() must be in it. */
  shaderKey: string;
  /** The kernel body: constants, helpers and `fn main(...)`, called by the `_start` entry point. */
  getUserCode(): string;
  /**
   * The body uses subgroup operations: the shader enables them and sets the private
   * `sgLane` and `sgSize` (u32) before main runs. Only for a device with 'subgroups'.
   */
  subgroups?: boolean;
}

/**
 * A ShiftmixProgram's fields, declared once: a program extends it and sets them (in its
 * constructor, or as initialized fields) and writes getUserCode.
 */
export abstract class Program implements ShiftmixProgram {
  declare outputNames: string[];
  declare variableNames: string[];
  declare components: number[];
  declare uniformNames: string[];
  declare workgroupSize: [number, number, number];
  declare dispatch: [number, number, number];
  declare shaderKey: string;
  declare subgroups?: boolean;
  abstract getUserCode(): string;
}

/** The members of tfjs-backend-webgpu 4.22's WebGPUBackend that recordAndSubmit uses. */
interface BackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource?: unknown } };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
  makeUniforms(data: { type: string; data: number[] }[]): GPUBufferBinding;
}

// getBindGroupLayout makes a new wrapper on every call, so the layout is kept with its pipeline.
const pipelines = new WeakMap<GPUDevice, Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>>();

/** Throws unless `backend` exposes the internals the fused kernels record through. */
export function checkBackendInternals(backend: unknown): asserts backend is WebGPUBackend {
  const needed = ['tensorMap', 'uploadToGPU', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue', 'makeUniforms'];
  const missing = needed.filter((key) => (backend as Record<string, unknown>)?.[key] === undefined);
  if (missing.length) {
    throw new ShiftmixError(
      `the webgpu backend lacks ${missing.join(', ')}; the fused kernels are written against @tensorflow/tfjs-backend-webgpu 4.22`,
      'Install @tensorflow/tfjs-backend-webgpu 4.22.0 (the version @shiftmix/webgpu depends on)',
      'E_BACKEND',
    );
  }
}

function wgslType(components: number): string {
  return components === 4 ? 'vec4<f32>' : 'f32';
}

/** Binding declarations and the entry point around the program's body. */
export function makeShaderSource(program: ShiftmixProgram): string {
  const lines: string[] = [];
  // WGSL has no notion of subgroup-uniform control flow, so without the filter it rejects
  // subgroup operations under any branch; the kernels keep them subgroup-uniform themselves.
  if (program.subgroups) lines.push('enable subgroups;', 'diagnostic(off, subgroup_uniformity);');
  let binding = 0;
  program.outputNames.forEach((name, i) => {
    lines.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: array<${wgslType(program.components[i])}>;`);
  });
  program.variableNames.forEach((name, i) => {
    const type = wgslType(program.components[program.outputNames.length + i]);
    lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: array<${type}>;`);
  });
  if (program.uniformNames.length) {
    lines.push(`struct Uniforms { ${program.uniformNames.map((n) => `${n}: i32`).join(', ')} };`);
    lines.push(`@group(0) @binding(${binding}) var<uniform> uniforms: Uniforms;`);
  }
  const [x, y, z] = program.workgroupSize;
  if (program.subgroups) lines.push('var<private> sgLane: u32;', 'var<private> sgSize: u32;');
  lines.push(program.getUserCode());
  const subgroupArgs = program.subgroups ? `,\n          @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32` : '';
  lines.push(`@compute @workgroup_size(${x}, ${y}, ${z})
fn _start(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>${subgroupArgs}) {
${program.subgroups ? '  sgLane = lane;\n  sgSize = size;\n' : ''}  main(vec3<i32>(lid), vec3<i32>(wid), vec3<i32>(nwg));
}`);
  return lines.join('\n');
}

function pipelineFor(device: GPUDevice, program: ShiftmixProgram): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let entry = cache.get(program.shaderKey);
  if (!entry) {
    const module = device.createShaderModule({ code: makeShaderSource(program), label: program.shaderKey });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: '_start' }, label: program.shaderKey });
    entry = { pipeline, layout: pipeline.getBindGroupLayout(0) };
    cache.set(program.shaderKey, entry);
  }
  return entry;
}

/** A range of a tensor's buffer, bound instead of the whole (offset aligned to the device's storage offset alignment). */
export interface BufferRange {
  info: tf.TensorInfo;
  /** Bytes from the start of the buffer. */
  offset: number;
  /** Bytes bound. */
  size: number;
}

/** The largest storage binding kernels make; tests lower it to reach the splitting paths on small tensors. */
export const bindingTuning: { maxBytes?: number } = {};

/**
 * The most bytes one storage binding may hold on this backend's device: the device's limit
 * (the adapter's own, which the device asks for), or the lower test override. Kernels whose
 * tensors pass it bind them in ranges (rows at a time) instead of whole.
 */
export function maxBindingBytes(backend: WebGPUBackend): number {
  const limit = (backend as unknown as BackendInternals).device.limits.maxStorageBufferBindingSize;
  return Math.min(limit, bindingTuning.maxBytes ?? limit);
}

/**
 * The fewest rows of `rowBytes` each whose bytes are a multiple of the device's storage
 * offset alignment: ranges that start on a multiple of it bind.
 */
export function alignedRows(backend: WebGPUBackend, rowBytes: number): number {
  const align = (backend as unknown as BackendInternals).device.limits.minStorageBufferOffsetAlignment;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return align / gcd(align, rowBytes);
}

/**
 * Splits `rows` rows of `rowBytes` each into chunks whose bytes stay within `maxBytes`,
 * each a multiple of `multiple` rows (but the last), so every chunk starts on a row whose
 * byte offset is a multiple of `multiple` * `rowBytes` (pick `multiple` to make that meet
 * the device's offset alignment). [start, end) row pairs.
 */
export function rowChunks(rows: number, rowBytes: number, maxBytes: number, multiple: number): [number, number][] {
  const per = Math.floor(maxBytes / rowBytes / multiple) * multiple;
  if (per < 1) {
    throw new ShiftmixError(`a row of ${rowBytes} bytes is past this device's largest binding of ${maxBytes} bytes`, 'Use a smaller width', 'E_SHAPE');
  }
  const chunks: [number, number][] = [];
  for (let start = 0; start < rows; start += per) chunks.push([start, Math.min(rows, start + per)]);
  return chunks;
}

function isRange(binding: tf.TensorInfo | BufferRange): binding is BufferRange {
  return 'info' in binding;
}

/**
 * What a compiled training step (plan/) sets while it records a step or remakes the
 * uniforms of a dispatch whose values change every step (a dropout seed): `uniforms` is
 * told each dispatch's uniform buffer and values; with `dryRun` set, runProgram hands it
 * the values and records nothing.
 */
export const dispatchHooks: { uniforms?: (buffer: GPUBuffer, values: number[]) => void; dryRun?: (values: number[]) => void } = {};

/**
 * Records one dispatch of `program` into the backend's command stream, exactly as the
 * backend's own recordAndSubmit does (shared encoder, deferred submission, deferred
 * disposal of the buffers it touches, timers under tf.time/tf.profile).
 */
export function runProgram(
  backend: WebGPUBackend,
  program: ShiftmixProgram,
  inputs: (tf.TensorInfo | BufferRange)[],
  outputs: (tf.TensorInfo | BufferRange)[],
  uniforms: number[] = [],
): void {
  if (dispatchHooks.dryRun) return dispatchHooks.dryRun(uniforms);
  const be = backend as unknown as BackendInternals;
  const bound = [...outputs, ...inputs];
  const infos = bound.map((b) => (isRange(b) ? b.info : b));
  for (const t of infos) be.uploadToGPU(t.dataId);
  const { pipeline, layout } = pipelineFor(be.device, program);
  const entries: GPUBindGroupEntry[] = bound.map((b, binding) => {
    const buffer = be.tensorMap.get((isRange(b) ? b.info : b).dataId).resource as GPUBuffer;
    return { binding, resource: isRange(b) ? { buffer, offset: b.offset, size: b.size } : { buffer } };
  });
  if (program.uniformNames.length) {
    const data = uniforms.map((value) => ({ type: 'int32', data: [value] }));
    const binding = be.makeUniforms(data);
    entries.push({ binding: entries.length, resource: binding });
    dispatchHooks.uniforms?.(binding.buffer, uniforms);
  }
  for (const t of infos) be.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = be.device.createBindGroup({ layout, entries });

  const timed = be.activeTimers != null;
  be.ensureCommandEncoderReady();
  if (timed && be.supportTimestampQuery) {
    be.endComputePassEncoder();
    be.querySet ??= be.device.createQuerySet({ type: 'timestamp', count: be.querySetCount });
    be.computePassEncoder = be.commandEncoder!.beginComputePass({
      timestampWrites: { querySet: be.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!be.computePassEncoder) {
    be.computePassEncoder = be.commandEncoder!.beginComputePass({});
  }
  be.computePassEncoder.setPipeline(pipeline);
  be.computePassEncoder.setBindGroup(0, bindGroup);
  be.computePassEncoder.dispatchWorkgroups(...program.dispatch);
  be.dispatchCountInPass++;
  const batch = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number;
  if (timed || batch <= be.dispatchCountInPass) {
    be.endComputePassEncoder();
    if (timed) be.activeTimers!.push({ name: program.shaderKey.split('_')[0], query: be.getQueryTime() });
    else be.submitQueue();
  }
}

/** Workgroup grid for `count` workgroups in 1D, folded into y past the per-dimension limit. */
export function foldedDispatch(count: number, limit = 65535): [number, number, number] {
  if (count <= limit) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / limit);
  if (y > limit) {
    throw new ShiftmixError(`a fused kernel needs ${count} workgroups, more than this device dispatches`, 'Use a smaller batch or context', 'E_SHAPE');
  }
  return [limit, y, 1];
}
