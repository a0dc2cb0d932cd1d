import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isShiftmixError, ShiftmixError } from '../errors.js';
import { findInstalledPlugins } from './installed.js';
import { importMixerFile, loadMixerPlugin, registerShippedMixers, SHIPPED_MIXERS, type LoadedMixerModule, type PackageImporter } from './load.js';
import { registerMixerModule } from './module.js';

/** The project file that names plugins to load: { "plugins": ["./my-mixer.js", "shiftmix-mixer-foo"] }. */
export const CONFIG_FILE = 'shiftmix.config.json';

/** Where a module's mixers came from: shipped, an installed plugin package, the config file, or named by the caller. */
export type MixerSource = 'builtin' | 'installed' | 'config' | 'flag';

export interface DiscoveredMixerModule extends LoadedMixerModule {
  via: MixerSource;
}

export interface DiscoverOptions {
  /** Where paths, node_modules and shiftmix.config.json are looked for; default process.cwd(). */
  cwd?: string;
  /** Plugins the caller names (the CLI's --plugin flags), loaded last so they win a name clash. */
  plugins?: readonly string[];
  /** Told about an installed plugin package that fails to load; default: console.warn. */
  onWarning?: (message: string) => void;
  /** Imports the shipped mixers' packages; pass your own so that they resolve from your folder. */
  importPackage?: PackageImporter;
}

/** The `plugins` list of shiftmix.config.json in `cwd`, or [] when there is no such file. */
export function readConfigPlugins(cwd: string): string[] {
  const file = path.join(cwd, CONFIG_FILE);
  if (!existsSync(file)) return [];
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ShiftmixError(
      `${CONFIG_FILE} is not valid JSON (${(error as Error).message.split('\n')[0]})`,
      `Fix the file, e.g. { "plugins": ["./my-mixer.js"] }`,
      'E_CONFIG',
    );
  }
  const plugins = (config as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new ShiftmixError(
      `"plugins" in ${CONFIG_FILE} must be a list of module paths or package names`,
      'Write e.g. { "plugins": ["./my-mixer.js", "shiftmix-mixer-foo"] }',
      'E_CONFIG',
    );
  }
  return plugins as string[];
}

/** An installed plugin package's mixers, or undefined (with a warning) when it fails to load. */
async function loadInstalled(name: string, file: string, onWarning: (message: string) => void): Promise<DiscoveredMixerModule | undefined> {
  try {
    if (!existsSync(file)) {
      throw new ShiftmixError(
        `installed package "${name}" declares the shiftmix mixer ${file}, which does not exist`,
        `Build or reinstall ${name}`,
        'E_PLUGIN',
      );
    }
    const mod = await importMixerFile(file, name);
    return { source: name, via: 'installed', mixers: await registerMixerModule(mod, name), file };
  } catch (error) {
    if (!isShiftmixError(error)) throw error;
    onWarning(`${error.problem}, so its mixers are not loaded. ${error.fix}`);
    return undefined;
  }
}

// The shipped mixers register once per process; later calls report the same modules.
let shipped: DiscoveredMixerModule[] | undefined;

/**
 * Registers every mixer a project can see, in order: the shipped ones, installed plugin
 * packages, shiftmix.config.json's plugins, then `plugins`, so an explicitly named plugin
 * wins a name clash. A plugin the user named (config, `plugins`) that fails is an error;
 * an installed package found on its own only warns, so it cannot break work that does not
 * use it.
 */
export async function discoverMixers(options: DiscoverOptions = {}): Promise<DiscoveredMixerModule[]> {
  const { cwd = process.cwd(), plugins = [], onWarning = (message) => console.warn(`shiftmix: warning: ${message}`), importPackage } = options;
  shipped ??= (await registerShippedMixers(Object.keys(SHIPPED_MIXERS), importPackage)).map((m) => ({ ...m, via: 'builtin' as const }));
  const loaded = [...shipped];
  const shippedPackages: readonly string[] = Object.values(SHIPPED_MIXERS);
  for (const { name, file } of findInstalledPlugins(cwd)) {
    if (shippedPackages.includes(name)) continue;
    const module = await loadInstalled(name, file, onWarning);
    if (module) loaded.push(module);
  }
  for (const specifier of readConfigPlugins(cwd)) loaded.push({ ...(await loadMixerPlugin(specifier, cwd)), via: 'config' });
  for (const specifier of plugins) loaded.push({ ...(await loadMixerPlugin(specifier, cwd)), via: 'flag' });
  return loaded;
}
