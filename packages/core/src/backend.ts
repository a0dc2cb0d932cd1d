import { registerMissingWasmKernels, replaceCpuSegmentSum } from './backends/wasm-kernels.js';
import { ShiftmixError } from './errors.js';
import { withoutAddedErrorHandlers } from './process-handlers.js';
import { listKernels } from './kernels/index.js';
import { tf } from './tf.js';

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow'];

export interface BackendInfo {
  /** The tfjs backend now active. */
  backend: Exclude<BackendName, 'auto'>;
  /** Adapter or device description, when the backend has one. */
  adapter?: string;
  /** True when the adapter is a software rasterizer (SwiftShader, llvmpipe). */
  software?: boolean;
  /**
   * wasm: the native kernels in use ("native, openblas"), or why tfjs's own kernels run
   * ("no native kernels: ...").
   */
  kernels?: string;
  /** Why `auto` took wasm on a machine that may have a GPU: worth one line to the user. */
  note?: string;
  /** The fused kernels (listKernels) it implements, by name. */
  fused?: string[];
  /** The threads its own CPU kernels use, where it has a pool to size (wasm with @shiftmix/native). */
  threads?: BackendThreads;
}

/** A backend's CPU threads: data-parallel training gives each worker its share. */
export interface BackendThreads {
  get(): number;
  set(threads: number): void;
}

/**
 * A backend that lives in a package of its own: @shiftmix/webgpu registers "webgpu",
 * @shiftmix/native "wasm" (with its C++ kernels), when imported; core never depends on
 * them. `probe` says whether it can run here without activating anything; `activate`
 * implements its kernels, creates and selects the tfjs backend.
 */
export interface BackendProvider {
  probe(): Promise<{ available: boolean; software?: boolean; adapter?: string; reason?: string }>;
  activate(): Promise<BackendInfo>;
  threads?: BackendThreads;
}

type ProvidedBackend = 'webgpu' | 'wasm';
const PROVIDER_PACKAGES: Record<ProvidedBackend, string> = { webgpu: '@shiftmix/webgpu', wasm: '@shiftmix/native' };
const providers = new Map<string, BackendProvider>();

export function registerBackendProvider(name: ProvidedBackend, provider: BackendProvider): void {
  providers.set(name, provider);
}

/** The provider of backend `name`, importing its package (which registers it) when installed. */
async function providerOf(name: ProvidedBackend): Promise<BackendProvider | undefined> {
  if (!providers.has(name)) {
    try {
      const specifier = PROVIDER_PACKAGES[name];
      await import(/* @vite-ignore */ specifier);
    } catch {
      return undefined;
    }
  }
  return providers.get(name);
}

/**
 * The active backend as data: its name, the fused kernels it implements and, from its
 * provider, its thread control. What the trainer and tools read instead of reaching
 * into a backend package.
 */
export function activeBackend(): BackendInfo {
  const backend = tf.getBackend() as BackendInfo['backend'];
  const fused = listKernels()
    .filter((k) => k.implementedOn(backend))
    .map((k) => k.name);
  const threads = providers.get(backend)?.threads;
  return { backend, fused, ...(threads ? { threads } : {}) };
}

/**
 * Whether a hardware GPU may be present. On Linux without a render node or an NVIDIA
 * device there is none, and probing would only make Dawn print driver warnings, so
 * `auto` goes straight to wasm there. Elsewhere (other systems, browsers) the probe decides.
 */
async function hardwareGpuPossible(): Promise<boolean> {
  const onNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!onNode || process.platform !== 'linux') return true;
  const { existsSync, readdirSync } = await import('node:fs');
  if (existsSync('/dev/nvidia0') || existsSync('/dev/dxg')) return true;
  try {
    return readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** The binaries of tfjs's wasm backend, by the file names it asks for. */
export type WasmFiles = Partial<Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>>;

let wasmFiles: string | WasmFiles | undefined;

/**
 * Where the wasm backend fetches its binaries in a browser: a folder URL ending in '/', or
 * a URL per file (what a bundler gives for each `.wasm` it emits). Call it before the
 * first selectBackend that may start wasm; Node finds them in the installed package.
 */
export function setWasmFiles(files: string | WasmFiles): void {
  wasmFiles = files;
}

/**
 * Loads tfjs's wasm backend and adds the kernels it lacks, without starting it: a
 * provider implements its own kernels between this and startWasmBackend.
 */
export async function loadWasmBackend(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (wasmFiles !== undefined) wasm.setWasmPaths(wasmFiles as never);
  registerMissingWasmKernels();
}

/** Starts the wasm backend loadWasmBackend loaded and selects it. */
export async function startWasmBackend(): Promise<void> {
  const started = await withoutAddedErrorHandlers(async () => {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    return true;
  });
  if (!started) {
    throw new ShiftmixError('the wasm backend failed to initialize', 'Use --backend cpu, or reinstall @tensorflow/tfjs-backend-wasm', 'E_BACKEND');
  }
}

const NATIVE_MISSING = '@shiftmix/native is not installed (npm install @shiftmix/native; it compiles with a C++ compiler)';

/** wasm with @shiftmix/native's kernels where it is installed and built, else tfjs's own. */
async function activateWasm(): Promise<BackendInfo> {
  const provider = await providerOf('wasm');
  const probe = provider ? await provider.probe() : { available: false, reason: NATIVE_MISSING };
  if (provider && probe.available) return provider.activate();
  await loadWasmBackend();
  await startWasmBackend();
  return { backend: 'wasm', kernels: `no native kernels: ${probe.reason ?? 'unknown'}` };
}

async function activateTensorflow(): Promise<BackendInfo> {
  const candidates = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      await import(/* @vite-ignore */ name);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return { backend: 'tensorflow', adapter: name };
      }
      failures.push(`${name} loaded but its backend did not start`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new ShiftmixError(
    `the tensorflow backend needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither loads (${failures.join('; ')})`,
    'Install one of them next to shiftmix (npm install @tensorflow/tfjs-node; the -gpu variant needs CUDA 11), or use --backend wasm',
    'E_BACKEND',
  );
}

/**
 * What `auto` takes: webgpu on a hardware adapter, else wasm, with a note when a GPU may be
 * there and is not used. A software adapter (SwiftShader, llvmpipe) never wins: wasm is far
 * faster than WebGPU emulated on the CPU.
 */
export async function chooseAuto(gpuPossible: boolean, provider: BackendProvider | undefined): Promise<{ use: 'webgpu' | 'wasm'; note?: string }> {
  if (!gpuPossible) return { use: 'wasm' };
  if (!provider)
    return { use: 'wasm', note: 'this machine may have a GPU, but @shiftmix/webgpu is not installed (npm install @shiftmix/webgpu to train on it)' };
  const probe = await provider.probe().catch((error: unknown) => ({ available: false, software: false, adapter: undefined, reason: (error as Error).message }));
  if (probe.available && !probe.software) return { use: 'webgpu' };
  const why = probe.available
    ? `the only WebGPU adapter is software${probe.adapter ? ` (${probe.adapter})` : ''}, slower than wasm`
    : `no WebGPU adapter is usable${probe.reason ? ` (${probe.reason})` : ''}`;
  return { use: 'wasm', note: `${why}; --backend webgpu forces it` };
}

/**
 * Selects and initializes a backend. `auto` takes webgpu when a hardware adapter is
 * present and @shiftmix/webgpu is installed, else wasm.
 */
export async function selectBackend(name: BackendName = 'auto'): Promise<BackendInfo> {
  const info = await activate(name);
  const active = activeBackend();
  const threads = info.threads ?? active.threads;
  return { ...info, fused: active.fused, ...(threads ? { threads } : {}) };
}

async function activate(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case 'auto': {
      const gpuPossible = await hardwareGpuPossible();
      const provider = gpuPossible ? await providerOf('webgpu') : undefined;
      const choice = await chooseAuto(gpuPossible, provider);
      if (choice.use === 'webgpu') return provider!.activate();
      const info = await activateWasm();
      return choice.note ? { ...info, note: choice.note } : info;
    }
    case 'wasm':
      return activateWasm();
    case 'cpu':
      replaceCpuSegmentSum();
      await tf.setBackend('cpu');
      await tf.ready();
      return { backend: 'cpu' };
    case 'webgpu': {
      const provider = await providerOf('webgpu');
      if (!provider) {
        throw new ShiftmixError(
          'the webgpu backend needs the @shiftmix/webgpu package, which is not installed',
          'Install it (npm install @shiftmix/webgpu), or use --backend wasm',
          'E_BACKEND',
        );
      }
      const probe = await provider.probe();
      if (!probe.available) {
        throw new ShiftmixError(
          `no usable WebGPU adapter${probe.reason ? `: ${probe.reason}` : ''}`,
          'Check the GPU driver (Vulkan on Linux), or use --backend wasm',
          'E_BACKEND',
        );
      }
      return provider.activate();
    }
    case 'tensorflow':
      return activateTensorflow();
    default:
      throw new ShiftmixError(`unknown backend "${String(name)}"`, `Use one of ${BACKEND_NAMES.join(', ')}`, 'E_BACKEND');
  }
}
