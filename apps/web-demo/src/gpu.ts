/** The few WebGPU members the demo touches (the DOM typings do not ship WebGPU yet). */
export interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  readonly features: ReadonlySet<string>;
  readonly limits: object;
  requestDevice(): Promise<unknown>;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

export type AdapterProbe = { ok: true; adapter: GpuAdapterLike; label: string } | { ok: false; reason: string };

export function adapterLabel(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p): p is string => !!p);
  return parts.length > 0 ? [...new Set(parts)].join(' ') : 'unnamed adapter';
}

/**
 * Asks for a WebGPU adapter the way onnxruntime-web will, and says in words why there
 * is none: no WebGPU in this browser, an insecure page, or no adapter on this machine.
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
    return { ok: true, adapter, label: adapterLabel(adapter) };
  } catch (error) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() failed: ${(error as Error).message}` };
  }
}
