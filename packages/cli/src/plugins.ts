import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isShiftmixError, listMixers, registerMixer, type AnyMixerSpec } from '@shiftmix/core';
import type { Io } from './command.js';
import { InputError } from './errors.js';
import { findInstalledPlugins, linkedPackageCause } from './installed.js';
import { resolvePlugin } from './resolve.js';

/** The built-in mixer packages, registered at startup through their register(). */
export const BUILTIN_PACKAGES = {
  '@shiftmix/mixer-hsm-ab': () => import('@shiftmix/mixer-hsm-ab'),
  '@shiftmix/mixer-learned-fusion': () => import('@shiftmix/mixer-learned-fusion'),
  '@shiftmix/mixer-softmax-attention': () => import('@shiftmix/mixer-softmax-attention'),
} as const;

export const CONFIG_FILE = 'shiftmix.config.json';

export interface LoadedPlugin {
  /** How the plugin was named: the --plugin argument, the config entry, or the package name. */
  source: string;
  /** Where it came from. */
  via: 'builtin' | 'flag' | 'config' | 'installed';
  mixers: string[];
  /** The module file imported (none for built-ins), so that other processes can load the same plugin. */
  file?: string;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/[.\s]+$/, '');
}

function snapshot(): Map<string, AnyMixerSpec> {
  return new Map(listMixers().map((m) => [m.spec.name, m.spec]));
}

function isSpecLike(value: unknown): value is AnyMixerSpec {
  if (typeof value !== 'object' || value === null) return false;
  return 'specificationVersion' in value || ('name' in value && 'create' in value);
}

/**
 * The mixer specs a module exports: `default`, `spec`, `specs` and every `*Spec` export,
 * each a spec or an array of specs. A CommonJS module's exports arrive as `default`.
 */
export function collectSpecs(mod: Record<string, unknown>): AnyMixerSpec[] {
  const found: AnyMixerSpec[] = [];
  const add = (value: unknown): void => {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isSpecLike(item) && !found.includes(item)) found.push(item);
    }
  };
  for (const [key, value] of Object.entries(mod)) {
    if (key === 'default' || key === 'spec' || key === 'specs' || /Spec$/.test(key)) add(value);
  }
  const fallback = mod.default;
  if (!found.length && typeof fallback === 'object' && fallback !== null && !Array.isArray(fallback) && !isSpecLike(fallback)) {
    return collectSpecs(fallback as Record<string, unknown>);
  }
  return found;
}

function findRegister(mod: Record<string, unknown>): (() => unknown) | undefined {
  if (typeof mod.register === 'function') return mod.register as () => unknown;
  if (typeof mod.default === 'function') return mod.default as () => unknown;
  const inner = mod.default;
  if (typeof inner === 'object' && inner !== null && typeof (inner as Record<string, unknown>).register === 'function') {
    return (inner as Record<string, () => unknown>).register;
  }
  return undefined;
}

/**
 * Registers what one imported module provides; returns the names it added or replaced.
 * Plugins are registered from their exported specs when they have any, which works even
 * when the plugin resolves its own copy of @shiftmix/core; built-ins call register().
 */
export async function registerModule(mod: Record<string, unknown>, source: string): Promise<string[]> {
  const specs = collectSpecs(mod);
  if (specs.length) {
    for (const spec of specs) {
      try {
        registerMixer(spec, { source });
      } catch (error) {
        if (isShiftmixError(error)) throw new InputError(`plugin "${source}": ${error.problem}`, error.fix);
        throw new InputError(`plugin "${source}" exports a mixer the registry rejects: ${firstLine(error)}`, 'Check the spec against the MixerSpec contract');
      }
    }
    return specs.map((s) => s.name);
  }
  const register = findRegister(mod);
  if (!register) {
    throw new InputError(
      `plugin "${source}" exports no mixer`,
      'Export a MixerSpec (as default, spec or fooSpec), an array of specs, or a register() function',
    );
  }
  const before = snapshot();
  try {
    await register();
  } catch (error) {
    const detail = isShiftmixError(error) ? `${error.problem}. ${error.fix}` : firstLine(error);
    throw new InputError(`plugin "${source}" failed in register(): ${detail}`, 'Fix the plugin, or leave it out');
  }
  const added = [...snapshot()].filter(([name, spec]) => before.get(name) !== spec).map(([name]) => name);
  if (!added.length) {
    throw new InputError(
      `plugin "${source}" ran register() but no mixer appeared in the registry`,
      'Export the spec itself (export const spec = ...), or make @shiftmix/core a peer dependency of the plugin so both use one registry',
    );
  }
  // Re-registering the same spec only records where it came from.
  for (const name of added) registerMixer(snapshot().get(name)!, { source });
  return added;
}

async function importPlugin(file: string, source: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const linked = linkedPackageCause(file, error);
    if (linked) throw new InputError(`plugin "${source}" failed to load: ${firstLine(error)}; ${linked.cause}`, linked.fix);
    throw new InputError(`plugin "${source}" failed to load: ${firstLine(error)}`, 'Fix the error in the module, or leave the plugin out');
  }
}

export async function loadPlugin(specifier: string, cwd: string, via: LoadedPlugin['via']): Promise<LoadedPlugin> {
  const file = resolvePlugin(specifier, cwd);
  const mod = await importPlugin(file, specifier);
  return { source: specifier, via, mixers: await registerModule(mod, specifier), file };
}

let builtinsLoaded: LoadedPlugin[] | undefined;

/**
 * Registers the built-in mixers through each package's register(). A package that has
 * none, or whose register() reached another registry, falls back to its exported specs.
 */
export async function registerBuiltins(): Promise<LoadedPlugin[]> {
  if (builtinsLoaded) return builtinsLoaded;
  const loaded: LoadedPlugin[] = [];
  for (const [name, load] of Object.entries(BUILTIN_PACKAGES)) {
    const mod = (await load()) as Record<string, unknown>;
    const register = findRegister(mod);
    if (register) await register();
    const registered = snapshot();
    const specs = collectSpecs(mod);
    for (const spec of specs) {
      if (registered.get(spec.name) !== spec) registerMixer(spec, { source: name });
    }
    for (const entry of listMixers()) {
      if (specs.includes(entry.spec) && !entry.source) registerMixer(entry.spec, { source: name });
    }
    loaded.push({ source: name, via: 'builtin', mixers: specs.map((s) => s.name) });
  }
  builtinsLoaded = loaded;
  return loaded;
}

/** The `plugins` list of shiftmix.config.json in `cwd`, or [] when there is no such file. */
export function readConfigPlugins(cwd: string): string[] {
  const file = path.join(cwd, CONFIG_FILE);
  if (!existsSync(file)) return [];
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${CONFIG_FILE} is not valid JSON (${firstLine(error)})`, `Fix the file, e.g. { "plugins": ["./my-mixer.js"] }`);
  }
  const plugins = (config as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new InputError(`"plugins" in ${CONFIG_FILE} must be a list of module paths or package names`, 'Write e.g. { "plugins": ["./my-mixer.js", "shiftmix-mixer-foo"] }');
  }
  return plugins as string[];
}

/** Where warnings go; the CLI's commands pass their stderr. */
export type WarningHandler = (message: string) => void;

/** Warnings as the CLI prints them, on the command's stderr. */
export function warnOn(io: Pick<Io, 'stderr'>): WarningHandler {
  return (message) => io.stderr(`shiftmix: warning: ${message}\n`);
}

const toStderr = warnOn({ stderr: (text) => void process.stderr.write(text) });

/**
 * Registers every mixer the CLI can see, in order: built-ins, installed packages,
 * shiftmix.config.json, then --plugin flags, so an explicit flag wins a name clash.
 * A plugin the user named (flag, config) that fails is an error; an installed package
 * found on its own is only a warning, so it cannot break commands that do not use it.
 */
export async function loadAllPlugins(cwd: string, flagPlugins: readonly string[], onWarning: WarningHandler = toStderr): Promise<LoadedPlugin[]> {
  const loaded = [...(await registerBuiltins())];
  for (const { name, file } of findInstalledPlugins(cwd)) {
    if (name in BUILTIN_PACKAGES) continue;
    try {
      if (!existsSync(file)) {
        throw new InputError(`installed package "${name}" declares the shiftmix mixer ${file}, which does not exist`, `Build or reinstall ${name}`);
      }
      const mod = await importPlugin(file, name);
      loaded.push({ source: name, via: 'installed', mixers: await registerModule(mod, name), file });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      onWarning(`${error.problem}, so its mixers are not loaded. ${error.fix}`);
    }
  }
  for (const specifier of readConfigPlugins(cwd)) loaded.push(await loadPlugin(specifier, cwd, 'config'));
  for (const specifier of flagPlugins) loaded.push(await loadPlugin(specifier, cwd, 'flag'));
  return loaded;
}
