import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line, for failure messages. */
  command: string;
}

export interface RunOptions {
  cwd: string;
  /** Extra variables; the npm_* variables of the test's own `npm run` are never passed on. */
  env?: Record<string, string>;
  /** Folders put first on PATH. */
  path?: string[];
  timeoutMs?: number;
}

/**
 * The environment of a fresh shell: this process's, without the npm_* and TURBO_* variables
 * that `npm test` sets for its own workspace (a nested npm or turbo would act on them).
 */
export function cleanEnv(options: Pick<RunOptions, 'env' | 'path'> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|turbo_)/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  }
  // The node running the tests, first: npm and npx find it there.
  env.PATH = [...(options.path ?? []), path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter);
  return { ...env, ...options.env };
}

function finish(command: string, result: ReturnType<typeof spawnSync>): RunResult {
  const error = result.error ? `\n${result.error.message}` : '';
  return { code: result.status, stdout: String(result.stdout ?? ''), stderr: `${String(result.stderr ?? '')}${error}`, command };
}

/** Runs a program with arguments (no shell). */
export function run(file: string, args: string[], options: RunOptions): RunResult {
  const result = spawnSync(file, args, {
    cwd: options.cwd,
    env: cleanEnv(options),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 << 20,
  });
  return finish([file, ...args].join(' '), result);
}

/** Runs one shell command line, as a user types it. */
export function runShell(line: string, options: RunOptions): RunResult {
  const result = spawnSync('sh', ['-c', line], {
    cwd: options.cwd,
    env: cleanEnv(options),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 << 20,
  });
  return finish(line, result);
}

/** A failure message with what ran and what it printed. */
export function explain(result: RunResult): string {
  return `${result.command}\nexit ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;
}
