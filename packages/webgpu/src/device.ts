/// <reference types="@webgpu/types" />
import { ShiftmixError } from '@shiftmix/core';

/**
 * Dawn backends selectable in Node (the `backend=` option of the webgpu package).
 * `null` is Dawn's null device: it runs no GPU work and reads back garbage, so a training
 * step on it costs exactly the host's share (tfjs ops, encoding, submission).
 */
export type DawnBackend = 'vulkan' | 'opengles' | 'opengl' | 'metal' | 'd3d12' | 'd3d11' | 'null';

export interface WebGpuOptions {
  /**
   * Which Dawn backend to use in Node. `auto` (default, or SHIFTMIX_WEBGPU_BACKEND)
   * tries the platform's native API (Vulkan on Linux) and then Mesa's GLES.
   */
  backend?: 'auto' | DawnBackend;
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn options for `create()`, e.g. "enable-dawn-features=allow_unsafe_apis". */
  dawnOptions?: string[];
  /**
   * false turns off Dawn's robustness transform (Node only): no bounds clamp on every
   * storage and workgroup access (about 28% of a matmul's time on an H100), but an
   * out-of-range index in any kernel then reads or writes outside its buffer. Only for
   * measured, trusted kernels; default true.
   */
  robustness?: boolean;
}

/** What the chosen adapter is, for logs and benchmark reports. */
export interface AdapterReport {
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  /** The Dawn backend in Node, "browser" in a browser. */
  backend: string;
  featureLevel: 'core' | 'compatibility';
  features: string[];
  /** A CPU rasterizer (llvmpipe, lavapipe, SwiftShader): correct but slow. */
  software: boolean;
}

export interface GpuAdapterHandle {
  gpu: GPU;
  adapter: GPUAdapter;
  report: AdapterReport;
}

export interface Candidate {
  backend: string;
  flags: string[];
  featureLevel: 'core' | 'compatibility';
}

/** Debian packages that give a machine without a GPU Mesa's software GLES driver. */
export const MESA_PACKAGES = ['libegl1', 'libegl-mesa0', 'libgles2', 'libgl1-mesa-dri'];

// Newer than the @webgpu/types that tfjs pins: adapter.info and the featureLevel option.
type AdapterInfoFields = { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
type AdapterOptions = GPURequestAdapterOptions & { featureLevel?: 'core' | 'compatibility' };

/** The adapter's info (GPUAdapter.info; older implementations lack it). */
export function adapterInfo(adapter: GPUAdapter): AdapterInfoFields {
  return (adapter as unknown as { info?: AdapterInfoFields }).info ?? {};
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

export function describeAdapter(adapter: GPUAdapter, backend: string, featureLevel: 'core' | 'compatibility'): AdapterReport {
  const info = adapterInfo(adapter);
  const fields = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '' };
  const name = info.device || fields.description || [fields.vendor, fields.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const text = [name, fields.vendor, fields.architecture, fields.description].join(' ');
  const fallback = info.isFallbackAdapter === true;
  // The null device does no work at all; reports must not pass it off as hardware.
  const software = fallback || backend === 'null' || SOFTWARE.test(text);
  return { name, ...fields, backend, featureLevel, features: [...adapter.features].sort(), software };
}

/** The Dawn instances to try in Node, in order, with their `create()` flags. */
export function nodeCandidates(options: WebGpuOptions): Candidate[] {
  const env = process.env.SHIFTMIX_WEBGPU_BACKEND as WebGpuOptions['backend'] | undefined;
  const choice = options.backend ?? env ?? 'auto';
  const extra = [...(options.dawnOptions ?? []), ...(options.robustness === false ? ['enable-dawn-features=disable_robustness'] : [])];
  const gles: Candidate = { backend: 'opengles', flags: ['backend=opengles', ...extra], featureLevel: 'compatibility' };
  if (choice === 'auto') return [{ backend: process.platform === 'linux' ? 'vulkan' : 'native', flags: extra, featureLevel: 'core' }, gles];
  if (choice === 'opengles' || choice === 'opengl') return [{ ...gles, backend: choice, flags: [`backend=${choice}`, ...extra] }];
  return [{ backend: choice, flags: [`backend=${choice}`, ...extra], featureLevel: 'core' }];
}

function noAdapterError(tried: string[], failures: string[]): ShiftmixError {
  const detail = failures.length ? ` (${failures.join('; ')})` : '';
  if (!isNode) {
    return new ShiftmixError(
      `this browser exposes no WebGPU adapter${detail}`,
      'Use a browser with WebGPU enabled (Chrome 113+, or --enable-unsafe-webgpu), or the wasm backend',
      'E_BACKEND',
    );
  }
  const linux = process.platform === 'linux';
  return new ShiftmixError(
    `no WebGPU adapter: tried ${tried.join(', ')}${detail}`,
    linux
      ? `On a GPU machine install the driver's Vulkan ICD and libvulkan1. Without a GPU install Mesa's software GLES (apt-get install ${MESA_PACKAGES.join(' ')}); EGL_PLATFORM=surfaceless is set for you. Or use --backend wasm`
      : 'Update the GPU driver, or use --backend wasm',
    'E_BACKEND',
  );
}

async function loadDawn(): Promise<{ create(flags: string[]): GPU; globals: Record<string, unknown> }> {
  try {
    const specifier = 'webgpu';
    return (await import(/* @vite-ignore */ specifier)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  } catch (error) {
    throw new ShiftmixError(
      `the webgpu package (Dawn for Node) does not load: ${(error as Error).message.split('\n')[0]}`,
      'Reinstall @shiftmix/webgpu so that its dependency "webgpu" is installed for this platform, or use --backend wasm',
      'E_BACKEND',
    );
  }
}

/**
 * Finds the best WebGPU adapter. In a browser: navigator.gpu. In Node: Dawn through the
 * `webgpu` package, first the native API (Vulkan on Linux: NVIDIA, AMD, Intel, or
 * lavapipe), then Mesa's GLES in compatibility mode, which runs on llvmpipe without a GPU.
 * A hardware adapter wins over a software one. Throws a ShiftmixError saying what to
 * install when none is usable.
 */
export async function requestGpuAdapter(options: WebGpuOptions = {}): Promise<GpuAdapterHandle> {
  const powerPreference = options.powerPreference ?? 'high-performance';
  if (!isNode) {
    const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!browserGpu) throw noAdapterError(['navigator.gpu'], ['navigator.gpu is undefined']);
    for (const featureLevel of ['core', 'compatibility'] as const) {
      const adapter = await browserGpu.requestAdapter({ powerPreference, featureLevel } as AdapterOptions);
      if (adapter) return { gpu: browserGpu, adapter, report: describeAdapter(adapter, 'browser', featureLevel) };
    }
    throw noAdapterError(['navigator.gpu'], []);
  }

  const dawn = await loadDawn();
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in globalThis)) Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  }
  // Mesa's EGL needs a platform without a display server; it reads this when Dawn opens EGL.
  process.env.EGL_PLATFORM ??= 'surfaceless';

  const found: GpuAdapterHandle[] = [];
  const failures: string[] = [];
  const candidates = nodeCandidates(options);
  for (const candidate of candidates) {
    try {
      const gpu = dawn.create(candidate.flags);
      const adapter = await gpu.requestAdapter({ powerPreference, featureLevel: candidate.featureLevel } as AdapterOptions);
      if (!adapter) {
        failures.push(`${candidate.backend}: no adapter`);
        continue;
      }
      const handle = { gpu, adapter, report: describeAdapter(adapter, candidate.backend, candidate.featureLevel) };
      if (!handle.report.software) return handle;
      found.push(handle);
    } catch (error) {
      failures.push(`${candidate.backend}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (found.length) return found[0];
  throw noAdapterError(
    candidates.map((c) => c.backend),
    failures,
  );
}

/** Requests a device with the adapter's full limits: tfjs sizes its buffers and workgroups by them. */
export async function requestGpuDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const limits = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const key of [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    if (typeof limits[key] === 'number') requiredLimits[key] = limits[key];
  }
  // Subgroups are asked for where offered, so kernels may check device.features for them.
  const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  try {
    return await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (error) {
    throw new ShiftmixError(`the WebGPU adapter refused a device: ${(error as Error).message}`, 'Update the GPU driver, or use --backend wasm', 'E_BACKEND');
  }
}
