import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';

/** Returns the parsed package.json in `dir`, or undefined when there is none or it is not JSON. */
export function readPackageJson(dir: string): Record<string, unknown> | undefined {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Picks the ESM entry from an `exports` value: a string, a condition object, or a subpath map. */
function exportsEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) return exports.map(exportsEntry).find((e) => e !== undefined);
  if (typeof exports !== 'object' || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  if ('.' in map) return exportsEntry(map['.']);
  for (const condition of ['import', 'node', 'default']) {
    if (condition in map) {
      const entry = exportsEntry(map[condition]);
      if (entry) return entry;
    }
  }
  return undefined;
}

/** The file a bare `import "pkg"` would load from `dir`, a package root. */
export function packageEntry(dir: string, pkg: Record<string, unknown>): string {
  const entry = exportsEntry(pkg.exports) ?? (typeof pkg.module === 'string' ? pkg.module : undefined) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
  return path.resolve(dir, entry);
}

function splitPackageName(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, count).join('/'), subpath: parts.slice(count).join('/') };
}

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/**
 * Resolves a plugin specifier to a file. A path (./x.js, /abs/x.js, or a file that exists
 * relative to `cwd`) is taken as is; anything else is a package name looked up in the
 * node_modules folders from `cwd` upwards, as Node would from a script in `cwd`.
 */
export function resolvePlugin(specifier: string, cwd: string): string {
  const asPath = path.resolve(cwd, specifier);
  const looksLikePath = specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.includes('\\');
  if (looksLikePath || isFile(asPath)) {
    if (isFile(asPath)) return asPath;
    if (existsSync(asPath) && statSync(asPath).isDirectory()) {
      const pkg = readPackageJson(asPath);
      const entry = pkg ? packageEntry(asPath, pkg) : path.join(asPath, 'index.js');
      if (isFile(entry)) return entry;
    }
    throw new InputError(`plugin "${specifier}" not found (looked for ${asPath})`, 'Pass a path relative to the current directory, e.g. --plugin ./my-mixer.js');
  }
  const { name, subpath } = splitPackageName(specifier);
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const root = path.join(dir, 'node_modules', name);
    const pkg = readPackageJson(root);
    if (pkg) {
      const entry = subpath ? path.resolve(root, subpath) : packageEntry(root, pkg);
      if (isFile(entry)) return entry;
      throw new InputError(`plugin package "${specifier}" has no entry file at ${entry}`, `Build the package, or check its package.json "exports"/"main"`);
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new InputError(
    `plugin "${specifier}" is neither a file in the current directory nor an installed package`,
    `Install it (npm install ${name}), or pass a path such as ./${specifier}.js`,
  );
}
