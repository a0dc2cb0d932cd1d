import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ShiftmixError } from '../errors.js';
import { hasMixer } from '../registry.js';
import { linkedPackageCause } from './installed.js';
import { firstLine, registerMixerModule } from './module.js';
import { resolvePlugin } from './resolve.js';
import { SHIPPED_MIXERS } from './shipped.js';

export { SHIPPED_MIXERS, type ShippedMixerName } from './shipped.js';

/** One module whose mixers were registered. */
export interface LoadedMixerModule {
  /** How the module was named: a path, a package name or a package subpath. */
  source: string;
  mixers: string[];
  /** The file imported, when it was resolved from a path or node_modules. */
  file?: string;
}

/** A module specifier a worker thread can import: paths become file URLs (relative ones from `cwd`). */
export function importable(source: string, cwd = process.cwd()): string {
  if (source.startsWith('.') || source.startsWith('/')) return pathToFileURL(resolve(cwd, source)).href;
  return source;
}

/**
 * Imports a module, failing when it can never finish: a top-level await on something that
 * never settles leaves nothing for the event loop to do, and Node would then exit with
 * code 13 and no word about the plugin. 'beforeExit' is that moment.
 */
function importSettling(href: string, source: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const stuck = (): void =>
      reject(
        new ShiftmixError(
          `plugin "${source}" never finished loading: its top-level await waits for something that never happens`,
          'Make every top-level await of the module settle, or leave the plugin out',
          'E_PLUGIN',
        ),
      );
    process.once('beforeExit', stuck);
    import(/* @vite-ignore */ href).then(resolve, reject).finally(() => process.off('beforeExit', stuck));
  });
}

/** Imports a module file, naming the cause when a linked package cannot find its imports. */
export async function importMixerFile(file: string, source: string): Promise<Record<string, unknown>> {
  try {
    return await importSettling(pathToFileURL(file).href, source);
  } catch (error) {
    if (error instanceof ShiftmixError) throw error;
    const linked = linkedPackageCause(file, error);
    if (linked) throw new ShiftmixError(`plugin "${source}" failed to load: ${firstLine(error)}; ${linked.cause}`, linked.fix, 'E_PLUGIN');
    throw new ShiftmixError(`plugin "${source}" failed to load: ${firstLine(error)}`, 'Fix the error in the module, or leave the plugin out', 'E_PLUGIN');
  }
}

/**
 * Loads a mixer plugin and registers its mixers. A path (./my-mixer.js) is taken
 * relative to `cwd`; anything else is a package, or a package subpath, installed in
 * the node_modules folders from `cwd` upwards.
 */
export async function loadMixerPlugin(specifier: string, cwd = process.cwd()): Promise<LoadedMixerModule> {
  const file = resolvePlugin(specifier, cwd);
  const mod = await importMixerFile(file, specifier);
  return { source: specifier, mixers: await registerMixerModule(mod, specifier), file };
}

/** loadMixerPlugin for each specifier, in order, so a later plugin wins a name clash. */
export async function loadMixerPlugins(specifiers: readonly string[], cwd = process.cwd()): Promise<LoadedMixerModule[]> {
  const loaded: LoadedMixerModule[] = [];
  for (const specifier of specifiers) loaded.push(await loadMixerPlugin(specifier, cwd));
  return loaded;
}

/** Imports a package by name; callers pass their own so that the name resolves from their folder. */
export type PackageImporter = (name: string) => Promise<unknown>;

const importFromCore: PackageImporter = (name) => import(/* @vite-ignore */ name);

function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(`'${name}'`);
}

/**
 * Registers the shipped mixers among `names` that the registry lacks, from their
 * packages. A package that is not installed is skipped: creating a model that uses the
 * mixer then names it and the package to install.
 */
export async function registerShippedMixers(
  names: Iterable<string> = Object.keys(SHIPPED_MIXERS),
  importPackage: PackageImporter = importFromCore,
): Promise<LoadedMixerModule[]> {
  const loaded: LoadedMixerModule[] = [];
  const packages = new Set<string>();
  for (const name of names) {
    const pkg = (SHIPPED_MIXERS as Record<string, string>)[name];
    if (pkg && !hasMixer(name)) packages.add(pkg);
  }
  for (const pkg of packages) {
    let mod: Record<string, unknown>;
    try {
      mod = (await importPackage(pkg)) as Record<string, unknown>;
    } catch (error) {
      if (isMissingPackage(error, pkg)) continue;
      throw error;
    }
    loaded.push({ source: pkg, mixers: await registerMixerModule(mod, pkg) });
  }
  return loaded;
}
