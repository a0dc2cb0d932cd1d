import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The command as users run it: bin/shiftmix.js loading the build (the test pipeline builds first).
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(PACKAGE, 'bin', 'shiftmix.js');

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  done: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Starts `shiftmix ARGS` as its own process in `cwd`, collecting what it prints. */
export function spawnCli(args: string[], cwd: string): CliProcess {
  if (!existsSync(path.join(PACKAGE, 'dist', 'bin.js'))) throw new Error('dist/bin.js is missing: build the packages first (npm run build)');
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void (err += chunk.toString()));
  const done = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Kills every process spawnCli started that is still running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * Polls `probe` until it returns something other than undefined or false, and fails at once
 * when one of the `watched` processes exits. The deadline only keeps a broken run from
 * hanging the suite; nothing is asserted about speed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  watched: CliProcess[] = [],
  limitMs = 240_000,
): Promise<T> {
  const end = Date.now() + limitMs;
  const output = () => watched.map((p) => `${p.stdout()}\n${p.stderr()}`).join('\n---\n');
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    const gone = watched.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (gone) throw new Error(`a process exited (${gone.child.exitCode ?? gone.child.signalCode}) while waiting for ${what}\n${output()}`);
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** The run files of a results folder, by name. */
export function runFiles(outDir: string): Record<string, Record<string, unknown>> {
  const runs = path.join(outDir, 'runs');
  if (!existsSync(runs)) return {};
  const files = readdirSync(runs).filter((f) => f.endsWith('.json'));
  return Object.fromEntries(files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(runs, f), 'utf8')) as Record<string, unknown>]));
}
