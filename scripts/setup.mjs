#!/usr/bin/env node
// Makes a fresh clone runnable: installs the locked dependencies when node_modules is
// missing or older than package-lock.json, then builds every package (turbo caches
// builds, so this is quick when nothing changed). `npm install` rather than `npm ci`:
// it keeps the locked versions but, unlike `npm ci`, accepts a lock that lists only the
// platform binaries (rollup, turbo) the registry could serve when it was written.
import { execSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const run = (command) => execSync(command, { stdio: 'inherit' });
const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;

if (stale) {
  console.log('shiftmix: installing dependencies (npm install, locked versions)');
  run('npm install --no-audit --no-fund');
}

// Extra arguments go to turbo, e.g. --filter=@shiftmix/bench.
const extra = process.argv.slice(2);

/** The packages whose build turbo does not have cached, from a dry run; undefined when that fails. */
function uncachedBuilds() {
  try {
    const dry = JSON.parse(
      execSync(['npx turbo run build --dry=json', ...extra].join(' '), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }),
    );
    return dry.tasks.filter((t) => t.command !== '<NONEXISTENT>' && t.cache?.status !== 'HIT').map((t) => t.package);
  } catch {
    return undefined;
  }
}

const elapsed = (start) => {
  const s = Math.round((Date.now() - start) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/**
 * Builds with turbo, saying which packages it builds and each one as it finishes (turbo
 * prints a task's logs, grouped, once it is done); turbo's own output shows only on
 * failure, and nothing at all when every build was cached.
 */
function build(packages) {
  const tty = process.stdout.isTTY;
  const start = Date.now();
  if (packages.length) console.log(`shiftmix: building ${packages.length} package(s): ${packages.join(', ')}`);
  const child = spawn('npx', ['turbo', 'run', 'build', '--output-logs=new-only', '--log-order=grouped', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  let log = '';
  let pending = '';
  const done = new Set();
  const line = (text) => {
    const task = /^(\S+?):build: /.exec(text)?.[1];
    if (!task || done.has(task) || !packages.includes(task)) return;
    done.add(task);
    const status = `shiftmix: done ${done.size}/${packages.length} (${task}) ${elapsed(start)}`;
    if (tty) process.stdout.write(`\r\x1b[K${status}`);
    else console.log(status);
  };
  child.stdout.on('data', (chunk) => {
    log += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    lines.forEach(line);
  });
  child.stderr.on('data', (chunk) => void (log += chunk));
  child.on('close', (code) => {
    if (tty && done.size) process.stdout.write('\n');
    if (code === 0) {
      if (packages.length) console.log(`shiftmix: built ${packages.length} package(s) in ${elapsed(start)}`);
      return;
    }
    process.stdout.write(log);
    console.error(`shiftmix: the build failed (turbo exited with ${code}); its logs are above`);
    process.exit(code ?? 1);
  });
}

// Without a dry run to tell what is cached, progress is not counted, but failures still show.
build(uncachedBuilds() ?? []);
