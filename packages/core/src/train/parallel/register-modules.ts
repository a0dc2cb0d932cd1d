import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { AnyMixerSpec } from '../../contract.js';
import { hasMixer, registerMixer } from '../../registry.js';

/** A module specifier a worker can import: relative and absolute paths become file URLs (relative to `cwd`). */
export function importable(source: string, cwd = process.cwd()): string {
  if (source.startsWith('.') || source.startsWith('/')) return pathToFileURL(resolve(cwd, source)).href;
  return source;
}

const looksLikeSpec = (x: unknown): x is AnyMixerSpec =>
  typeof x === 'object' && x !== null && (x as { specificationVersion?: unknown }).specificationVersion !== undefined && typeof (x as { create?: unknown }).create === 'function';

/**
 * Imports a module that provides mixers and registers them: its register() when it has
 * one, and every exported spec not yet registered (modules that only export specs).
 */
export async function registerFromModule(specifier: string): Promise<void> {
  const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  if (typeof mod.register === 'function') (mod.register as () => void)();
  for (const value of Object.values(mod)) {
    if (looksLikeSpec(value) && !hasMixer(value.name)) registerMixer(value, { source: specifier });
  }
}
