/** The few WebGPU members the demo touches (the DOM typings do not ship WebGPU yet). */
export interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  /** Older browsers' flag (now on `info`). */
  readonly isFallbackAdapter?: boolean;
  readonly features: ReadonlySet<string>;
  readonly limits: object;
  requestDevice(): Promise<unknown>;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

/** A usable adapter, and `software` when it is a fallback (CPU) one that `auto` passes over. */
export type AdapterProbe = { ok: true; adapter: GpuAdapterLike; label: string; software: SoftwareAdapter | null } | { ok: false; reason: string };

/** Why an adapter counts as software: `reason` is a phrase for the page ("swiftshader in its name"). */
export interface SoftwareAdapter {
  reason: string;
}

// Names that adapters implemented on the CPU give in their info: Chromium's SwiftShader,
// Mesa's llvmpipe and lavapipe (Vulkan on llvmpipe), WARP ("Microsoft Basic Render Driver").
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render driver|\bwarp\b|\bcpu\b/i;

export function adapterLabel(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p): p is string => !!p);
  return parts.length > 0 ? [...new Set(parts)].join(' ') : 'unnamed adapter';
}

/**
 * Whether `adapter` runs on the CPU (null for a hardware one): the browser flags it as a
 * fallback adapter, or its info names a software implementation. Such an adapter decodes
 * far slower than onnxruntime's wasm provider (SwiftShader: about 30 tokens/s where wasm
 * gives 800), so `auto` must not pick it; the training page asks the same question.
 */
export function isSoftwareAdapter(adapter: GpuAdapterLike): SoftwareAdapter | null {
  if (adapter.info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return { reason: 'marked as a fallback adapter' };
  const info = adapter.info ?? {};
  for (const field of [info.architecture, info.device, info.description, info.vendor]) {
    const match = field ? SOFTWARE_NAMES.exec(field) : null;
    if (match) return { reason: `${match[0].toLowerCase()} in its name` };
  }
  return null;
}

/** The sentence the page shows when `auto` passes over a software adapter for wasm. */
export function softwareFallbackReason(label: string): string {
  return `the only WebGPU adapter is a software one (${label}), slower than wasm here`;
}

/**
 * Asks for a WebGPU adapter the way onnxruntime-web will, and says in words why there
 * is none: no WebGPU in this browser, an insecure page, or no adapter on this machine.
 * When the first adapter is a software one, asks once more (low power): a machine with
 * an integrated GPU may offer it there; the result is software only when both are.
 */
export async function probeAdapter(scope: { navigator: Navigator; isSecureContext: boolean } = globalThis as never): Promise<AdapterProbe> {
  const gpu = (scope.navigator as (Navigator & { gpu?: GpuLike }) | undefined)?.gpu;
  if (!gpu) {
    return {
      ok: false,
      reason: scope.isSecureContext
        ? 'this browser has no WebGPU (navigator.gpu is missing); in Chromium, enable it with --enable-unsafe-webgpu or chrome://flags'
        : 'WebGPU needs a secure page (https, or http on localhost / 127.0.0.1)',
    };
  }
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null (no usable GPU or driver)' };
    const software = isSoftwareAdapter(adapter);
    if (software) {
      const other = await gpu.requestAdapter({ powerPreference: 'low-power' }).catch(() => null);
      if (other && !isSoftwareAdapter(other)) return { ok: true, adapter: other, label: adapterLabel(other), software: null };
    }
    return { ok: true, adapter, label: adapterLabel(adapter), software };
  } catch (error) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() failed: ${(error as Error).message}` };
  }
}
