import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ShiftmixError } from '../errors.js';

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

// The conditions Node matches when it imports an ES module.
const CONDITIONS = new Set(['import', 'node', 'default']);

/** The target of one `exports` value: a path, a list of fallbacks, or conditions in key order; null excludes. */
function exportsTarget(value: unknown, star?: string): string | undefined {
  if (typeof value === 'string') return star === undefined ? value : value.replaceAll('*', star);
  if (Array.isArray(value)) return value.map((v) => exportsTarget(v, star)).find((t) => t !== undefined);
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, inner] of Object.entries(value)) {
    if (!CONDITIONS.has(condition)) continue;
    const target = exportsTarget(inner, star);
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * What `import "pkg/SUBPATH"` loads according to the package's `exports` (`subpath` is
 * "." or "./x"): exact keys first, then `*` patterns, the longest prefix winning.
 */
export function resolveExports(exports: unknown, subpath: string): string | undefined {
  const isMap = typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
  if (!isMap) return subpath === '.' ? exportsTarget(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, subpath)) return exportsTarget(map[subpath]);
  const patterns = Object.keys(map)
    .filter((key) => key.includes('*'))
    .sort((a, b) => b.indexOf('*') - a.indexOf('*') || b.length - a.length);
  for (const key of patterns) {
    const [prefix, suffix] = key.split('*');
    if (subpath.length >= key.length - 1 && subpath.startsWith(prefix) && subpath.endsWith(suffix)) {
      return exportsTarget(map[key], subpath.slice(prefix.length, subpath.length - suffix.length));
    }
  }
  return undefined;
}

/** The subpaths a package's `exports` lists, for error messages. */
function exportedSubpaths(exports: unknown): string[] {
  const isMap = typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
  return isMap ? Object.keys(exports as object) : ['.'];
}

/** The file a bare `import "pkg"` would load from `dir`, a package root. */
export function packageEntry(dir: string, pkg: Record<string, unknown>): string {
  const entry =
    (pkg.exports === undefined ? undefined : resolveExports(pkg.exports, '.')) ??
    (typeof pkg.module === 'string' ? pkg.module : undefined) ??
    (typeof pkg.main === 'string' ? pkg.main : 'index.js');
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

/** The file `import "NAME/SUBPATH"` loads from the package at `root`, as Node finds it. */
function packageFile(specifier: string, root: string, pkg: Record<string, unknown>, subpath: string): string {
  let entry: string;
  if (pkg.exports !== undefined) {
    const target = resolveExports(pkg.exports, subpath ? `./${subpath}` : '.');
    if (target === undefined) {
      const listed = exportedSubpaths(pkg.exports).map((s) => (s === '.' ? String(pkg.name ?? specifier) : `${String(pkg.name ?? '')}${s.slice(1)}`));
      throw new ShiftmixError(
        `plugin package "${specifier}" does not export "${subpath ? `./${subpath}` : '.'}"`,
        `Its package.json "exports" lists ${listed.join(', ')}`,
        'E_PLUGIN',
      );
    }
    entry = path.resolve(root, target);
  } else {
    entry = subpath ? path.resolve(root, subpath) : packageEntry(root, pkg);
  }
  if (isFile(entry)) return entry;
  throw new ShiftmixError(
    `plugin package "${specifier}" has no entry file at ${entry}`,
    'Build the package, or check its package.json "exports"/"main"',
    'E_PLUGIN',
  );
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
    throw new ShiftmixError(
      `plugin "${specifier}" not found (looked for ${asPath})`,
      'Pass a path relative to the current directory, e.g. ./my-mixer.js',
      'E_PLUGIN',
    );
  }
  const { name, subpath } = splitPackageName(specifier);
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const root = path.join(dir, 'node_modules', name);
    const pkg = readPackageJson(root);
    if (pkg) return packageFile(specifier, root, pkg, subpath);
    if (path.dirname(dir) === dir) break;
  }
  throw new ShiftmixError(
    `plugin "${specifier}" is neither a file in the current directory nor an installed package`,
    `Install it (npm install ${name}), or pass a path such as ./${specifier}.js`,
    'E_PLUGIN',
  );
}
