import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findInstalledPlugins, importMixerFile, loadMixerPlugin, registerMixerModule, registerShippedMixers, SHIPPED_MIXERS } from '@shiftmix/core/plugins';
import { isShiftmixError } from '@shiftmix/core';
import type { Io } from './command.js';
import { InputError } from './errors.js';

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

export async function loadPlugin(specifier: string, cwd: string, via: LoadedPlugin['via']): Promise<LoadedPlugin> {
  return { ...(await loadMixerPlugin(specifier, cwd)), via };
}

let builtinsLoaded: LoadedPlugin[] | undefined;

/** Registers the shipped mixers, imported from here: the CLI depends on their packages. */
export async function registerBuiltins(): Promise<LoadedPlugin[]> {
  builtinsLoaded ??= (await registerShippedMixers(Object.keys(SHIPPED_MIXERS), (name) => import(name))).map((m) => ({ ...m, via: 'builtin' as const }));
  return builtinsLoaded;
}

/** The `plugins` list of shiftmix.config.json in `cwd`, or [] when there is no such file. */
export function readConfigPlugins(cwd: string): string[] {
  const file = path.join(cwd, CONFIG_FILE);
  if (!existsSync(file)) return [];
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(
      `${CONFIG_FILE} is not valid JSON (${(error as Error).message.split('\n')[0]})`,
      `Fix the file, e.g. { "plugins": ["./my-mixer.js"] }`,
    );
  }
  const plugins = (config as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new InputError(
      `"plugins" in ${CONFIG_FILE} must be a list of module paths or package names`,
      'Write e.g. { "plugins": ["./my-mixer.js", "shiftmix-mixer-foo"] }',
    );
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
  const shipped: readonly string[] = Object.values(SHIPPED_MIXERS);
  for (const { name, file } of findInstalledPlugins(cwd)) {
    if (shipped.includes(name)) continue;
    try {
      if (!existsSync(file)) {
        throw new InputError(`installed package "${name}" declares the shiftmix mixer ${file}, which does not exist`, `Build or reinstall ${name}`);
      }
      const mod = await importMixerFile(file, name);
      loaded.push({ source: name, via: 'installed', mixers: await registerMixerModule(mod, name), file });
    } catch (error) {
      if (!(error instanceof InputError) && !isShiftmixError(error)) throw error;
      onWarning(`${error.problem}, so its mixers are not loaded. ${error.fix}`);
    }
  }
  for (const specifier of readConfigPlugins(cwd)) loaded.push(await loadPlugin(specifier, cwd, 'config'));
  for (const specifier of flagPlugins) loaded.push(await loadPlugin(specifier, cwd, 'flag'));
  return loaded;
}
