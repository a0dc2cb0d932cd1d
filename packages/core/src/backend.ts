import { loadNativeKernels, nativeKernels } from './backends/native.js';
import { registerMissingWasmKernels } from './backends/wasm-kernels.js';
import { registerNativeWasmKernels } from './backends/wasm-native.js';
import { ShiftmixError } from './errors.js';
import { withoutAddedErrorHandlers } from './process-handlers.js';
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
}

/**
 * A GPU backend that lives outside core (`@shiftmix/webgpu` registers itself here, so
 * core never depends on it). `probe` says whether a usable adapter exists without
 * activating anything; `activate` creates and selects the tfjs backend.
 */
export interface BackendProvider {
  probe(): Promise<{ available: boolean; software: boolean; adapter?: string; reason?: string }>;
  activate(): Promise<BackendInfo>;
}

const providers = new Map<string, BackendProvider>();

export function registerBackendProvider(name: 'webgpu', provider: BackendProvider): void {
  providers.set(name, provider);
}

async function webgpuProvider(): Promise<BackendProvider | undefined> {
  if (!providers.has('webgpu')) {
    try {
      // Optional: present when the user installed @shiftmix/webgpu; importing it registers the provider.
      const specifier = '@shiftmix/webgpu';
      await import(/* @vite-ignore */ specifier);
    } catch {
      return undefined;
    }
  }
  return providers.get('webgpu');
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

async function activateWasm(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerMissingWasmKernels();
  const native = await loadNativeKernels();
  const kernels = nativeKernels();
  if (kernels) registerNativeWasmKernels(kernels);
  const started = await withoutAddedErrorHandlers(async () => {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    return true;
  });
  if (!started) {
    throw new ShiftmixError('the wasm backend failed to initialize', 'Use --backend cpu, or reinstall @tensorflow/tfjs-backend-wasm', 'E_BACKEND');
  }
  return { backend: 'wasm', kernels: native.available ? `native, ${native.blas}` : `no native kernels: ${native.reason}` };
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
  switch (name) {
    case 'auto': {
      const gpuPossible = await hardwareGpuPossible();
      const provider = gpuPossible ? await webgpuProvider() : undefined;
      const choice = await chooseAuto(gpuPossible, provider);
      if (choice.use === 'webgpu') return provider!.activate();
      const info = await activateWasm();
      return choice.note ? { ...info, note: choice.note } : info;
    }
    case 'wasm':
      return activateWasm();
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      return { backend: 'cpu' };
    case 'webgpu': {
      const provider = await webgpuProvider();
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
