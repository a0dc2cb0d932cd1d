import { tf } from '@shiftmix/core';
import { syncWebGpu, webGpuBackend, webGpuInfo } from '../backend.js';

export interface KernelTime {
  /** tfjs kernel name (BatchMatMul, ShiftmixAttentionGrad, ...). */
  name: string;
  calls: number;
  /** GPU time summed over the calls, ms (0 without timestamp queries). */
  ms: number;
  /** Share of the step's summed kernel time (of the calls when there are no timings). */
  share: number;
  /** The GPU programs behind the kernel with their summed ms, as tfjs reports them. */
  programs: Record<string, number>;
}

export interface StepProfile {
  /**
   * Where the kernel times come from: WebGPU timestamp queries, the wall time of each
   * synchronous kernel on the CPU backends (wasm, cpu), or none (calls only).
   */
  source: 'timestamp-query' | 'cpu-wall' | 'none';
  backend: string;
  /** Wall time of one unprofiled run, GPU work included. */
  wallMs: number;
  /** Kernel GPU time summed over the profiled run. */
  gpuMs: number;
  kernels: KernelTime[];
  /** Tensors the step left behind, and the peak bytes it allocated. */
  newTensors: number;
  peakBytes: number;
}

export interface ProfileOptions {
  /** Unprofiled runs first, so pipeline compilation is not timed (default 1). */
  warmup?: number;
}

type StepFn = () => tf.TensorContainer | void | Promise<tf.TensorContainer | void>;

/** tfjs reports a kernel's programs as "ProgramName: ms, ProgramName: ms". */
function parsePrograms(extra: string | undefined, into: Record<string, number>): void {
  for (const part of (extra ?? '').split(', ')) {
    const at = part.lastIndexOf(': ');
    if (at < 0) continue;
    const ms = Number(part.slice(at + 2));
    // Program names have no spaces; an adapter that never writes its timestamps can leave junk around them.
    const name = part.slice(0, at).trim().split(/\s+/)[0];
    if (Number.isFinite(ms) && name) into[name] = (into[name] ?? 0) + ms;
  }
}

async function settle(result: unknown): Promise<void> {
  tf.dispose(result as tf.TensorContainer);
  if (tf.getBackend() === 'webgpu') await syncWebGpu();
}

/**
 * Runs `fn` (a training step, a forward pass) under tf.profile and returns per-kernel
 * GPU time. On webgpu with the adapter's 'timestamp-query' feature each kernel is timed
 * by timestamps written around its compute pass (tfjs-backend-webgpu's profiler; the
 * shiftmix kernels record theirs the same way); without it only call counts are known.
 * Profiling ends the pass and reads the timestamps back after every kernel, so the
 * profiled run is slower than `wallMs`, which is measured on a separate plain run.
 * Tensors `fn` returns are disposed.
 */
export async function profileStep(fn: StepFn, options: ProfileOptions = {}): Promise<StepProfile> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await settle(await fn());
  const start = performance.now();
  await settle(await fn());
  const wallMs = performance.now() - start;

  const info = await tf.profile(async () => {
    const out = await fn();
    return (out ?? []) as tf.TensorContainer;
  });
  tf.dispose(info.result as tf.TensorContainer);
  const byName = new Map<string, KernelTime>();
  for (const kernel of info.kernels) {
    const entry = byName.get(kernel.name) ?? { name: kernel.name, calls: 0, ms: 0, share: 0, programs: {} };
    entry.calls++;
    entry.ms += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    parsePrograms(typeof kernel.extraInfo === 'string' ? kernel.extraInfo : undefined, entry.programs);
    byName.set(kernel.name, entry);
  }
  const kernels = [...byName.values()];
  let gpuMs = kernels.reduce((sum, k) => sum + k.ms, 0);
  const backend = tf.getBackend();
  // Dawn's null device offers timestamp queries but writes nothing into them.
  const nullDevice = webGpuInfo()?.report.backend === 'null';
  const gpuTimed =
    backend === 'webgpu' && !nullDevice && Boolean((webGpuBackend() as unknown as { supportTimestampQuery?: boolean } | undefined)?.supportTimestampQuery);
  // CPU backends run each kernel synchronously, so tfjs's per-kernel wall time is its cost.
  const cpuTimed = backend === 'wasm' || backend === 'cpu';
  const timed = (gpuTimed || cpuTimed) && gpuMs > 0;
  const calls = kernels.reduce((sum, k) => sum + k.calls, 0);
  for (const k of kernels) {
    k.share = timed ? k.ms / gpuMs : k.calls / Math.max(calls, 1);
    if (!timed) {
      k.ms = 0;
      for (const program of Object.keys(k.programs)) k.programs[program] = 0;
    }
  }
  kernels.sort((a, b) => (timed ? b.ms - a.ms : b.calls - a.calls));
  const source = timed ? (gpuTimed ? 'timestamp-query' : 'cpu-wall') : 'none';
  if (!timed) gpuMs = 0;
  return { source, backend, wallMs, gpuMs, kernels, newTensors: info.newTensors, peakBytes: info.peakBytes };
}

/** A plain-text table of the top kernels: name, calls, GPU ms, share, main programs. */
export function formatProfile(profile: StepProfile, top = 15): string {
  const heads = {
    'timestamp-query': `${profile.backend}: kernels ${profile.gpuMs.toFixed(3)} ms GPU (timestamp queries), step ${profile.wallMs.toFixed(3)} ms wall`,
    'cpu-wall': `${profile.backend}: kernels ${profile.gpuMs.toFixed(3)} ms (per-kernel wall time), step ${profile.wallMs.toFixed(3)} ms wall`,
    none: `${profile.backend}: no GPU timestamps on this adapter; calls only, step ${profile.wallMs.toFixed(3)} ms wall`,
  };
  const head = heads[profile.source];
  const rows = profile.kernels.slice(0, top).map((k) => {
    const programs = Object.entries(k.programs)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, ms]) => (ms > 0 ? `${name} ${ms.toFixed(3)}` : name))
      .join(', ');
    return `${k.name.padEnd(28)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(3).padStart(10)} ${(100 * k.share).toFixed(1).padStart(6)}%  ${programs}`;
  });
  const rest = profile.kernels.length > top ? [`... ${profile.kernels.length - top} more kernels`] : [];
  return [head, `${'kernel'.padEnd(28)} ${'calls'.padStart(6)} ${'ms'.padStart(10)} ${'share'.padStart(7)}  programs`, ...rows, ...rest].join('\n');
}
