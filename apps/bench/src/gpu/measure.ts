/// <reference types="@webgpu/types" />
import { tf } from '@shiftmix/core';
import { foldedDispatch, runProgram, syncWebGpu, webGpuBackend, webGpuDevice, type ShiftmixProgram } from '@shiftmix/webgpu';

export interface Timing {
  /** Wall time per repetition, GPU work included (clock stopped after the queue drained). */
  ms: number;
  /**
   * GPU time per repetition from timestamp queries, free of the CPU's dispatch cost:
   * around one pass of back-to-back repetitions (passGpuMs) where the work stays in one
   * pass, else summed over dispatches (tf.time); undefined without timestamp queries.
   */
  gpuMs?: number;
  /** Time to enqueue one repetition: when it nears `ms`, the CPU side is the bottleneck. */
  enqueueMs: number;
  reps: number;
}

/**
 * Repetitions of warm-up: the pipelines compile on the first, and tfjs releases the
 * buffers of disposed tensors only when it submits (every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE
 * dispatches), so its buffer pool reaches its steady size only after two such batches.
 * Fewer, and the timed loop pays for fresh allocations and Dawn's zeroing of them.
 */
export function defaultWarmup(): number {
  return 2 * (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) + 2;
}

/**
 * Times `body` by the wall clock around `reps` repetitions, after `warmup` ones,
 * waiting for the GPU queue to drain at both ends.
 */
export async function timeLoop(body: () => void, reps: number, warmup = defaultWarmup()): Promise<Timing> {
  for (let i = 0; i < warmup; i++) body();
  await syncWebGpu();
  const start = performance.now();
  for (let i = 0; i < reps; i++) body();
  const enqueued = performance.now();
  await syncWebGpu();
  const end = performance.now();
  return { ms: (end - start) / reps, enqueueMs: (enqueued - start) / reps, reps };
}

/**
 * GPU time of `body` per repetition: tf.time puts each dispatch in its own timed pass
 * and sums their durations. Slow to run (a readback per dispatch), exact on the GPU side.
 */
export async function gpuTimeMs(body: () => void, reps: number): Promise<number | undefined> {
  if (!webGpuDevice()?.features.has('timestamp-query')) return undefined;
  body();
  const info = await tf.time(() => {
    for (let i = 0; i < reps; i++) body();
  });
  return typeof info.kernelMs === 'number' ? info.kernelMs / reps : undefined;
}

/** The tfjs backend's recording state that passGpuMs borrows. */
interface Recorder {
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * GPU time per repetition of `reps` repetitions recorded back to back into one compute
 * pass with a timestamp at each end: throughput with the barriers between dispatches and
 * no idle GPU between them. Undefined without timestamp queries, or when `body` ended
 * the pass itself (a tfjs upload does), which would leave part of the work outside it.
 */
export async function passGpuMs(body: () => void, reps: number): Promise<number | undefined> {
  const device = webGpuDevice();
  const be = webGpuBackend() as unknown as Recorder | undefined;
  if (!device || !be || !device.features.has('timestamp-query')) return undefined;
  body();
  await syncWebGpu();
  const batch = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number;
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number.MAX_SAFE_INTEGER);
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    be.ensureCommandEncoderReady();
    be.endComputePassEncoder();
    const pass = be.commandEncoder!.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    be.computePassEncoder = pass;
    for (let i = 0; i < reps; i++) body();
    const intact = be.computePassEncoder === pass;
    be.ensureCommandEncoderReady();
    be.endComputePassEncoder();
    be.commandEncoder!.resolveQuerySet(querySet, 0, 2, resolve, 0);
    be.commandEncoder!.copyBufferToBuffer(resolve, 0, read, 0, 16);
    be.submitQueue();
    await read.mapAsync(GPUMapMode.READ);
    const [start, end] = new BigUint64Array(read.getMappedRange());
    read.unmap();
    return intact ? Number(end - start) / 1e6 / reps : undefined;
  } finally {
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
}

/**
 * The least passGpuMs of `trials` passes. The GPU lowers its clocks while the CPU-bound
 * wall-clock loops leave it mostly idle; the first pass then runs partly before the
 * clocks are back up, so one pass alone reads slow.
 */
export async function settledPassGpuMs(body: () => void, reps: number, trials = 3): Promise<number | undefined> {
  let best: number | undefined;
  for (let i = 0; i < trials; i++) {
    const ms = await passGpuMs(body, reps).catch(() => undefined);
    if (ms === undefined) return undefined;
    best = Math.min(best ?? ms, ms);
  }
  return best;
}

/** Repetitions that keep one measurement near `budgetMs`, given a first guess of its cost. */
export async function calibratedReps(body: () => void, budgetMs: number, max = 500): Promise<number> {
  const probe = await timeLoop(body, 3);
  return Math.max(5, Math.min(max, Math.round(budgetMs / Math.max(probe.ms, 1e-3))));
}

export function gbPerSecond(bytes: number, ms: number): number {
  return bytes / (ms * 1e-3) / 1e9;
}

/**
 * y = x through vec4 loads and stores, `perThread` vec4s per thread (a workgroup copies
 * 256 * perThread consecutive vec4s, so every load stays coalesced).
 */
class CopyProgram implements ShiftmixProgram {
  outputNames = ['y'];
  variableNames = ['x'];
  components = [4, 4];
  uniformNames = ['count'];
  workgroupSize: [number, number, number] = [256, 1, 1];
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(
    count: number,
    private readonly perThread: number,
  ) {
    this.dispatch = foldedDispatch(Math.ceil(count / (256 * perThread)));
    this.shaderKey = `benchCopy_${perThread}`;
  }

  getUserCode(): string {
    return `fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let base = (wid.y * nwg.x + wid.x) * ${256 * this.perThread} + lid.x;
  for (var k = 0; k < ${this.perThread}; k++) {
    let i = base + k * 256;
    if (i < uniforms.count) { y[i] = x[i]; }
  }
}`;
  }
}

export interface CopyBandwidth {
  bytes: number;
  /** copyBufferToBuffer, bytes read plus bytes written per second. */
  bufferCopyGBs: number;
  /** The vec4 copy kernel, through the same dispatch path as the fused kernels. */
  kernelCopyGBs: number;
  /** The best copy kernel timed on the GPU (timestamp queries). */
  kernelCopyGpuGBs?: number;
  /** GPU-clock bandwidth per vec4s-per-thread variant of the copy kernel. */
  kernelVariants: { perThread: number; gpuGBs?: number; wallGBs: number }[];
  best: number;
}

/** Device copy bandwidth over `floats` float32 values, counting reads and writes. */
export async function copyBandwidth(floats: number, reps: number): Promise<CopyBandwidth> {
  const device = webGpuDevice()!;
  const bytes = floats * 4;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const [src, dst] = [device.createBuffer({ size: bytes, usage }), device.createBuffer({ size: bytes, usage })];
  // Several copies per submission, as tfjs batches its dispatches: a submission has a
  // fixed cost of its own that is not the copy's.
  const perSubmit = 10;
  const copies = () => {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < perSubmit; i++) encoder.copyBufferToBuffer(i % 2 ? dst : src, 0, i % 2 ? src : dst, 0, bytes);
    device.queue.submit([encoder.finish()]);
  };
  const buffer = await timeLoop(copies, Math.ceil(reps / perSubmit), 3);
  src.destroy();
  dst.destroy();

  const x = tf.zeros([floats]);
  const backend = webGpuBackend()!;
  const kernelVariants: CopyBandwidth['kernelVariants'] = [];
  for (const perThread of [1, 2, 4, 8]) {
    const copyKernel = () => {
      const y = backend.makeTensorInfo([floats], 'float32');
      runProgram(backend, new CopyProgram(floats / 4, perThread), [x], [y], [floats / 4]);
      backend.disposeData(y.dataId);
    };
    const wall = await timeLoop(copyKernel, reps);
    const gpuMs = (await settledPassGpuMs(copyKernel, 20)) ?? (await gpuTimeMs(copyKernel, 20));
    kernelVariants.push({ perThread, wallGBs: gbPerSecond(2 * bytes, wall.ms), gpuGBs: gpuMs ? gbPerSecond(2 * bytes, gpuMs) : undefined });
  }
  x.dispose();
  const kernelCopyGBs = Math.max(...kernelVariants.map((v) => v.wallGBs));
  const gpuBest = Math.max(...kernelVariants.map((v) => v.gpuGBs ?? 0));
  const kernelCopyGpuGBs = gpuBest > 0 ? gpuBest : undefined;
  const bufferCopyGBs = gbPerSecond(2 * bytes * perSubmit, buffer.ms);
  return { bytes, bufferCopyGBs, kernelCopyGBs, kernelCopyGpuGBs, kernelVariants, best: Math.max(bufferCopyGBs, kernelCopyGBs, kernelCopyGpuGBs ?? 0) };
}

/**
 * CPU cost of one small fused dispatch and of one small tfjs op (tf.add), in
 * microseconds: the floor under any per-op time, whatever the GPU.
 */
export async function dispatchOverheadUs(kernel: string): Promise<{ fusedUs: number; tfAddUs: number }> {
  const x = tf.randomNormal([1, 8, 16]);
  const a = tf.ones([16]);
  const fused = await timeLoop(() => tf.dispose(tf.engine().runKernel(kernel, { u: x, a, b: a }, { shifts: [1] }) as tf.Tensor), 300);
  const add = await timeLoop(() => tf.dispose(tf.add(x, x)), 300);
  tf.dispose([x, a]);
  return { fusedUs: fused.enqueueMs * 1e3, tfAddUs: add.enqueueMs * 1e3 };
}
