import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Workspace {
  name: string;
  /** Folder relative to the root, e.g. packages/core. */
  dir: string;
  pkg: Record<string, unknown>;
}

/** Every workspace of the root package.json ("packages/*", "apps/*"), in folder order. */
export function workspaces(): Workspace[] {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found: Workspace[] = [];
  for (const pattern of root.workspaces) {
    const parent = pattern.replace(/\/\*$/, '');
    for (const entry of readdirSync(path.join(ROOT, parent)).sort()) {
      const file = path.join(ROOT, parent, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      found.push({ name: pkg.name as string, dir: `${parent}/${entry}`, pkg });
    }
  }
  return found;
}

/** The workspaces that are published to npm (not private). */
export function publishedPackages(): Workspace[] {
  return workspaces().filter((w) => w.pkg.private !== true);
}

/** The version of a tool the repository has installed, to install the same one elsewhere (from the npm cache). */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

const temporaries: string[] = [];

/** A new folder in the system's temporary folder, removed by removeTemporaries(). */
export function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `shiftmix-${prefix}-`));
  temporaries.push(dir);
  return dir;
}

/** Removes the folders temporaryDir() made (a project with its node_modules is a few hundred MB). */
export function removeTemporaries(): void {
  for (const dir of temporaries.splice(0)) rmSync(dir, { recursive: true, force: true });
}
