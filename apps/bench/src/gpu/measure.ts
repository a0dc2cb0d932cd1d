/// <reference types="@webgpu/types" />
import { tf } from '@shiftmix/core';
import { foldedDispatch, runProgram, syncWebGpu, webGpuBackend, webGpuDevice, type ShiftmixProgram } from '@shiftmix/webgpu';

export interface Timing {
  /** Wall time per repetition, GPU work included (clock stopped after the queue drained). */
  ms: number;
  /** Time to enqueue one repetition: when it nears `ms`, the CPU side is the bottleneck. */
  enqueueMs: number;
  reps: number;
}

/**
 * Times `body` by the wall clock around `reps` repetitions, after `warmup` ones (which
 * also compile the pipelines), waiting for the GPU queue to drain at both ends.
 */
export async function timeLoop(body: () => void, reps: number, warmup = 3): Promise<Timing> {
  for (let i = 0; i < warmup; i++) body();
  await syncWebGpu();
  const start = performance.now();
  for (let i = 0; i < reps; i++) body();
  const enqueued = performance.now();
  await syncWebGpu();
  const end = performance.now();
  return { ms: (end - start) / reps, enqueueMs: (enqueued - start) / reps, reps };
}

/** Repetitions that keep one measurement near `budgetMs`, given a first guess of its cost. */
export async function calibratedReps(body: () => void, budgetMs: number, max = 500): Promise<number> {
  const probe = await timeLoop(body, 3, 2);
  return Math.max(5, Math.min(max, Math.round(budgetMs / Math.max(probe.ms, 1e-3))));
}

export function gbPerSecond(bytes: number, ms: number): number {
  return bytes / (ms * 1e-3) / 1e9;
}

/** y = x through vec4 loads and stores: the bandwidth a streaming kernel can reach. */
class CopyProgram implements ShiftmixProgram {
  outputNames = ['y'];
  variableNames = ['x'];
  components = [4, 4];
  uniformNames = ['count'];
  workgroupSize: [number, number, number] = [256, 1, 1];
  dispatch: [number, number, number];
  shaderKey = 'benchCopy';

  constructor(count: number) {
    this.dispatch = foldedDispatch(Math.ceil(count / 256));
  }

  getUserCode(): string {
    return `fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let i = (wid.y * nwg.x + wid.x) * 256 + lid.x;
  if (i < uniforms.count) { y[i] = x[i]; }
}`;
  }
}

export interface CopyBandwidth {
  bytes: number;
  /** copyBufferToBuffer, bytes read plus bytes written per second. */
  bufferCopyGBs: number;
  /** The vec4 copy kernel, through the same dispatch path as the fused kernels. */
  kernelCopyGBs: number;
  best: number;
}

/** Device copy bandwidth over `floats` float32 values, counting reads and writes. */
export async function copyBandwidth(floats: number, reps: number): Promise<CopyBandwidth> {
  const device = webGpuDevice()!;
  const bytes = floats * 4;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const [src, dst] = [device.createBuffer({ size: bytes, usage }), device.createBuffer({ size: bytes, usage })];
  const copyOnce = () => {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
    device.queue.submit([encoder.finish()]);
  };
  const buffer = await timeLoop(copyOnce, reps);
  src.destroy();
  dst.destroy();

  const x = tf.zeros([floats]);
  const backend = webGpuBackend()!;
  const kernel = await timeLoop(() => {
    const y = backend.makeTensorInfo([floats], 'float32');
    runProgram(backend, new CopyProgram(floats / 4), [x], [y], [floats / 4]);
    backend.disposeData(y.dataId);
  }, reps);
  x.dispose();
  const bufferCopyGBs = gbPerSecond(2 * bytes, buffer.ms);
  const kernelCopyGBs = gbPerSecond(2 * bytes, kernel.ms);
  return { bytes, bufferCopyGBs, kernelCopyGBs, best: Math.max(bufferCopyGBs, kernelCopyGBs) };
}
