import * as ort from 'onnxruntime-web';
import { probeAdapter, softwareFallbackReason } from './gpu.js';
import type { Manifest } from './manifest.js';
import { DemoError, type Provider, type ProviderChoice } from './protocol.js';

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
  fallbackReason: string | null;
  adapter: string | null;
  /** The adapter runs on the CPU (SwiftShader, llvmpipe, ...): `auto` passes over it. */
  adapterSoftware: boolean;
}

const BAD_MODEL_FIX = 'Pick the decode.onnx that shiftmix export wrote next to this model.json, or export the model again';

/** ONNX files are protobuf ModelProtos, which start with field 1 (ir_version, a varint): byte 0x08. */
export function checkOnnxBytes(bytes: Uint8Array, file: string): void {
  if (bytes.length === 0) throw new DemoError(`${file} is empty`, BAD_MODEL_FIX, 'E_BAD_MODEL');
  if (bytes[0] !== 0x08) {
    const text = new TextDecoder().decode(bytes.subarray(0, 16)).trim();
    const seen = /^[\x20-\x7e]+/.test(text) ? ` (it starts with "${text.slice(0, 12)}")` : '';
    throw new DemoError(`${file} is not an ONNX model${seen}`, BAD_MODEL_FIX, 'E_BAD_MODEL');
  }
}

function create(bytes: Uint8Array, provider: Provider, manifest: Manifest): Promise<ort.InferenceSession> {
  // On WebGPU the state stays in GPU buffers from one step to the next; only the
  // logits come back to the CPU for sampling.
  const location: Record<string, ort.Tensor.DataLocation> =
    provider === 'webgpu' ? Object.fromEntries([['logits', 'cpu'], ...manifest.state.map((s) => [s.output, 'gpu-buffer'])]) : {};
  return ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    preferredOutputLocation: provider === 'webgpu' ? location : 'cpu',
  });
}

function badModel(file: string, error: unknown): DemoError {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 300);
  return new DemoError(`${file} could not be loaded by onnxruntime-web: ${message}`, BAD_MODEL_FIX, 'E_BAD_MODEL');
}

/**
 * Opens decode.onnx on the chosen provider. `auto` checks for a WebGPU adapter first and
 * falls back to wasm, keeping the reason so the page can show it: when there is none, when
 * its session fails, and when the only adapter is a software one (slower than wasm);
 * `webgpu` insists, on any adapter.
 */
export async function openSession(bytes: Uint8Array, manifest: Manifest, choice: ProviderChoice): Promise<OpenedSession> {
  checkOnnxBytes(bytes, manifest.decodeFile);
  let fallbackReason: string | null = null;
  let adapter: string | null = null;
  let adapterSoftware = false;
  if (choice !== 'wasm') {
    const probe = await probeAdapter();
    if (probe.ok && probe.software && choice === 'auto') {
      adapter = probe.label;
      adapterSoftware = true;
      fallbackReason = softwareFallbackReason(probe.label);
    } else if (probe.ok) {
      adapter = probe.label;
      adapterSoftware = probe.software !== null;
      // Hand onnxruntime the adapter checked here, so the one shown is the one used.
      if (!ort.env.webgpu.adapter) ort.env.webgpu.adapter = probe.adapter as never;
      try {
        return { session: await create(bytes, 'webgpu', manifest), provider: 'webgpu', fallbackReason: null, adapter, adapterSoftware };
      } catch (error) {
        fallbackReason = `the WebGPU session failed (${(error instanceof Error ? error.message : String(error)).slice(0, 200)})`;
      }
    } else {
      fallbackReason = probe.reason;
    }
    if (choice === 'webgpu') {
      throw new DemoError(
        `WebGPU was asked for but cannot run: ${fallbackReason}`,
        'Choose "auto" or "wasm" as the provider, or use a browser with WebGPU',
        'E_NO_WEBGPU',
      );
    }
  }
  try {
    return { session: await create(bytes, 'wasm', manifest), provider: 'wasm', fallbackReason, adapter, adapterSoftware };
  } catch (error) {
    throw badModel(manifest.decodeFile, error);
  }
}
