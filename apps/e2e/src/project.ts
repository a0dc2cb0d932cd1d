import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installedVersion, temporaryDir } from './repo.js';
import { explain, run, type RunResult } from './run.js';
import type { Tarball } from './pack.js';

// Offline but for the registry, and from the npm cache the repository's own install filled.
const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function mustSucceed(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} failed:\n${explain(result)}`);
  return result;
}

/**
 * A new project outside the repository with every tarball installed, as a user's project
 * that ran `npm install` on the published packages. Returns its folder.
 */
export function createProject(tarballs: Tarball[]): string {
  const dir = temporaryDir('user');
  // allowScripts as the READMEs say: npm 12 runs the native kernels' build only where the project allows it.
  const manifest = { name: 'shiftmix-user-project', private: true, type: 'module', allowScripts: { '@shiftmix/native': true } };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mustSucceed(run('npm', [...NPM_INSTALL, ...tarballs.map((t) => t.file)], { cwd: dir, timeoutMs: 300_000 }), 'npm install of the tarballs');
  return dir;
}

/** Adds vitest, typescript and Node's types, in the repository's versions, as dev dependencies. */
export function installDevTools(dir: string): void {
  const tools = ['vitest', 'typescript', '@types/node'].map((name) => `${name}@${installedVersion(name)}`);
  mustSucceed(run('npm', [...NPM_INSTALL, '--save-dev', ...tools], { cwd: dir, timeoutMs: 300_000 }), `npm install ${tools.join(' ')}`);
}

/** A fresh folder inside the project, so that each test's files stay apart while node_modules is shared. */
export function workdir(project: string, name: string, files: Record<string, string> = {}): string {
  const dir = path.join(project, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** The project's installed commands (node_modules/.bin) on PATH, as after `npm install -g`. */
export function binPath(project: string): string[] {
  return [path.join(project, 'node_modules', '.bin')];
}
