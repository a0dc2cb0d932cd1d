#!/usr/bin/env node
// Makes a fresh clone runnable: installs the locked dependencies when node_modules is
// missing or older than package-lock.json, then builds every package (turbo caches
// builds, so this is quick when nothing changed). `npm install` rather than `npm ci`:
// it keeps the locked versions but, unlike `npm ci`, accepts a lock that lists only the
// platform binaries (rollup, turbo) the registry could serve when it was written.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const run = (command) => execSync(command, { stdio: 'inherit' });
const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;

if (stale) {
  console.log('shiftmix: installing dependencies (npm install, locked versions)');
  run('npm install --no-audit --no-fund');
}
run('npx turbo run build --output-logs=errors-only');
