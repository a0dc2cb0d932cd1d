import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from `start` and returns the first `relative` path that exists. */
export function findUp(start: string, relative: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * A folder the package ships: the build copies the repository's benchmarks/suites and
 * benchmarks/data into dist/, next to the code, so they travel with the package. Run
 * from source (the repository's tests) they are the repository's own folders.
 */
export function shippedDir(name: 'suites' | 'data'): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const packaged = join(here, name);
  return existsSync(packaged) ? packaged : findUp(here, join('benchmarks', name));
}

/** Tiny Shakespeare as the package ships it: lm-char's data when a suite names none. */
export function shippedTinyShakespeare(): string | undefined {
  const dir = shippedDir('data');
  const file = dir && join(dir, 'tinyshakespeare.txt');
  return file && existsSync(file) ? file : undefined;
}
