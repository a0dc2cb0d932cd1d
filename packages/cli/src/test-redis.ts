import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { killAll } from './test-processes.js';

/** A real redis-server on a free localhost port, for the queue tests. */
export interface TestRedis {
  port: number;
  /** redis://:PASSWORD@127.0.0.1:PORT with the password percent-encoded. */
  url: string;
  /** Kills the server outright (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  restart(): Promise<void>;
  /** Deletes every key, as a restart of a Redis that keeps nothing on disk would. */
  flush(): void;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts redis-server and resolves once it accepts connections. */
function launch(port: number, dir: string, password: string): Promise<ChildProcess> {
  // Every write is on disk before Redis answers it (append-only file, fsync always), so a
  // killed server comes back with every finished job.
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--requirepass',
    password,
    '--logfile',
    '',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error('redis-server is not installed: apt-get install redis-server (.ci/apt-packages.txt lists it for CI)') : error),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (/Ready to accept connections/.test(log)) resolve(child);
    });
    child.stderr!.on('data', (chunk: Buffer) => void (log += chunk.toString()));
  });
}

export async function startRedis(password: string): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shiftmix-redis-'));
  const port = await freePort();
  let child = await launch(port, dir, password);
  return {
    port,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      child = await launch(port, dir, password);
    },
    flush() {
      const result = spawnSync('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, 'FLUSHALL'], { encoding: 'utf8' });
      if (result.status !== 0 || !/OK/.test(result.stdout)) throw new Error(`redis-cli FLUSHALL failed: ${result.stdout}${result.stderr}${result.error ?? ''}`);
    },
    async stop() {
      child.kill('SIGKILL');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test file's redis-server with `password`, started before its tests and stopped after
 * them (with every CLI process they started). The returned function gives the server.
 */
export function useRedis(password: string): () => TestRedis {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis(password);
  });
  afterAll(async () => {
    killAll();
    await redis?.stop();
  });
  return () => redis!;
}
