import path from 'node:path';
import { publishedPackages, ROOT, temporaryDir } from './repo.js';
import { explain, run } from './run.js';

export interface Tarball {
  name: string;
  /** Folder of the package in the repository, e.g. packages/core. */
  dir: string;
  file: string;
}

/**
 * Packs every published package with `npm pack` (what `npm publish` would upload) into a
 * new temporary folder. The packages must be built first (`npm test` does).
 */
export function packAll(): Tarball[] {
  const dest = temporaryDir('tarballs');
  const packages = publishedPackages();
  const result = run('npm', ['pack', '--json', '--pack-destination', dest, ...packages.map((p) => `--workspace=${p.name}`)], { cwd: ROOT, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`npm pack failed:\n${explain(result)}`);
  const packed = JSON.parse(result.stdout) as { name: string; filename: string }[];
  return packages.map((p) => {
    const entry = packed.find((e) => e.name === p.name);
    if (!entry) throw new Error(`npm pack made no tarball for ${p.name}`);
    return { name: p.name, dir: p.dir, file: path.join(dest, entry.filename) };
  });
}
