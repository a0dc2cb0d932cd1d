import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShiftmixError, hasMixer, listMixers, registerMixer, type AnyMixerSpec } from '@shiftmix/core';

/** The mixers the standard suites use, by package. */
export const STANDARD_MIXERS: Record<string, string> = {
  'hsm-ab': '@shiftmix/mixer-hsm-ab',
  'learned-fusion': '@shiftmix/mixer-learned-fusion',
  'softmax-attention': '@shiftmix/mixer-softmax-attention',
};

const isSpec = (v: unknown): v is AnyMixerSpec => typeof v === 'object' && v !== null && 'specificationVersion' in v && 'create' in v;

/** Registers what a module provides: its exported specs (default, spec, specs, *Spec), else its register(). */
export async function registerModule(mod: Record<string, unknown>, source: string): Promise<string[]> {
  const specs: AnyMixerSpec[] = [];
  for (const [key, value] of Object.entries(mod)) {
    if (key !== 'default' && key !== 'spec' && key !== 'specs' && !key.endsWith('Spec')) continue;
    for (const item of Array.isArray(value) ? value : [value]) if (isSpec(item) && !specs.includes(item)) specs.push(item);
  }
  // A CommonJS module's exports arrive as one default object.
  const inner = mod.default;
  if (!specs.length && typeof inner === 'object' && inner !== null && !Array.isArray(inner) && !isSpec(inner)) return registerModule(inner as Record<string, unknown>, source);
  if (specs.length) {
    for (const spec of specs) registerMixer(spec, { source });
    return specs.map((s) => s.name);
  }
  const register = typeof mod.register === 'function' ? mod.register : typeof mod.default === 'function' ? mod.default : undefined;
  if (!register) {
    throw new ShiftmixError(`plugin "${source}" exports no mixer`, 'Export a MixerSpec (as default, spec or fooSpec) or a register() function', 'E_PLUGIN');
  }
  const before = new Map(listMixers().map((m) => [m.spec.name, m.spec]));
  await (register as () => unknown)();
  const added = listMixers().filter((m) => before.get(m.spec.name) !== m.spec).map((m) => m.spec.name);
  if (!added.length) {
    throw new ShiftmixError(
      `plugin "${source}" ran register() but no mixer appeared in the registry`,
      'Export the spec itself, or make @shiftmix/core a peer dependency of the plugin so both use one registry',
      'E_PLUGIN',
    );
  }
  return added;
}

/**
 * Imports plugin modules and registers their mixers. A specifier that starts with "."
 * or is absolute is a file relative to `cwd`; anything else is a package resolved from `cwd`.
 */
export async function loadPlugins(specifiers: string[], cwd = process.cwd()): Promise<Record<string, string[]>> {
  const loaded: Record<string, string[]> = {};
  for (const specifier of specifiers) {
    let url: string;
    try {
      url = specifier.startsWith('.') || isAbsolute(specifier)
        ? pathToFileURL(resolve(cwd, specifier)).href
        : pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(specifier)).href;
    } catch (error) {
      throw new ShiftmixError(`cannot find plugin "${specifier}": ${(error as Error).message.split('\n')[0]}`, 'Give a module path (./my-mixer.js) or an installed package name', 'E_PLUGIN');
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
    } catch (error) {
      throw new ShiftmixError(`plugin "${specifier}" failed to load: ${(error as Error).message.split('\n')[0]}`, 'Fix the error in the module, or leave the plugin out', 'E_PLUGIN');
    }
    loaded[specifier] = await registerModule(mod, specifier);
  }
  return loaded;
}

/**
 * Registers the standard mixers a suite names but the registry lacks, from their
 * packages when installed. Missing packages are left for getMixer to report by name.
 */
export async function registerStandardMixers(names: Iterable<string>): Promise<void> {
  for (const name of new Set(names)) {
    const pkg = STANDARD_MIXERS[name];
    if (!pkg || hasMixer(name)) continue;
    try {
      const mod = (await import(/* @vite-ignore */ pkg)) as Record<string, unknown>;
      await registerModule(mod, pkg);
    } catch {
      // Not installed: the model's creation names the unknown mixer and how to add it.
    }
  }
}
