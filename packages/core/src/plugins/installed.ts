import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { readPackageJson } from './resolve.js';

/** Packages in `cwd`/node_modules whose package.json declares "shiftmix": { "mixer": FILE }. */
export function findInstalledPlugins(cwd: string): { name: string; file: string }[] {
  const root = path.join(cwd, 'node_modules');
  if (!existsSync(root)) return [];
  const dirs: string[] = [];
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const inner of readdirSync(path.join(root, entry))) dirs.push(path.join(root, entry, inner));
    } else {
      dirs.push(path.join(root, entry));
    }
  }
  const found: { name: string; file: string }[] = [];
  for (const dir of dirs) {
    const pkg = readPackageJson(dir);
    const mixer = (pkg?.shiftmix as { mixer?: unknown } | undefined)?.mixer;
    if (typeof mixer !== 'string') continue;
    found.push({ name: typeof pkg?.name === 'string' ? pkg.name : path.basename(dir), file: path.resolve(dir, mixer) });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The innermost folder on the way from `file` up to the filesystem root that is a symbolic link. */
function linkedFolder(file: string): string | undefined {
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    try {
      if (lstatSync(dir).isSymbolicLink()) return dir;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Why a plugin inside a linked folder (npm installs a local folder as a link) cannot find
 * a package it imports: Node resolves imports from the link's real path, so the plugin's
 * `@shiftmix/core` peer is looked up next to its sources, not in the project that uses it.
 */
export function linkedPackageCause(file: string, error: unknown): { cause: string; fix: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const link = linkedFolder(file);
  if (!link) return undefined;
  const real = realpathSync(link);
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message)?.[1] ?? 'a package it imports';
  return {
    cause: `${link} is a link to ${real}, and Node resolves the plugin's imports from there, where ${missing} is not installed`,
    fix: `Install the plugin from a tarball (npm pack in ${real}, then npm install the .tgz), or install ${missing} in ${real} as well`,
  };
}
