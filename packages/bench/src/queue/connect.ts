import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import { Redis } from 'ioredis';
import { writeFileAtomic } from '../store.js';
import { redisOptions, PASSWORD_ENV, type QueueAddress } from './address.js';
import { QUEUE_PREFIX, type DataRef } from './jobs.js';

// Node's codes for a connection that failed, in words.
const CONNECTION_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens on that host and port',
  ECONNRESET: 'the server closed the connection',
  ECONNABORTED: 'the connection was aborted',
  EPIPE: 'the server closed the connection while this was sending',
  ETIMEDOUT: 'the connection timed out: the host does not answer',
  ENOTFOUND: 'no such host: the name does not resolve',
  EAI_AGAIN: 'the host name could not be looked up (DNS did not answer)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOENT: 'no such file or socket',
  EACCES: 'permission denied',
};

// BullMQ's negative status codes (its ErrorCode), which concern one job, not the connection.
const JOB_REASONS: Record<number, string> = {
  [-1]: 'the job is gone from Redis (removed, or Redis lost its data)',
  [-2]: "the job's lock had run out (the worker did not renew it within --lock-seconds, or Redis restarted), so another worker may have taken the run",
  [-3]: 'the job had already moved on (another worker finished or failed it)',
  [-6]: 'another worker holds the job now',
};

/**
 * A connection error's reason in words with its code, e.g. "connection refused: nothing
 * listens on that host and port (ECONNREFUSED)"; undefined for errors that are not the
 * connection's (a job's lost lock, a refused command).
 */
export function connectionReason(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^E(?!RR_)[A-Z0-9_]+$/.test(code)) return undefined;
  return `${CONNECTION_REASONS[code] ?? (error as Error).message?.split('\n')[0] ?? 'connection error'} (${code})`;
}

/** What an error from Redis or BullMQ means, in one line: the connection's reason, or the message with what a BullMQ status code says. */
export function describeQueueError(error: unknown): string {
  const connection = connectionReason(error);
  if (connection) return connection;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'number') return message;
  return `${message.replace(/[.\s]+$/, '')}: ${JOB_REASONS[code] ?? `BullMQ status ${code}`}`;
}

/** What went wrong talking to Redis, as a ShiftmixError that names the server by its safe address only. */
export function redisError(error: unknown, address: QueueAddress): ShiftmixError {
  const message = error instanceof Error ? error.message : String(error);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return new ShiftmixError(
      `Redis at ${address.display} refused the user name or password`,
      `Check the password in the URL (write @ : / ? # % in it as %40 %3A %2F %3F %23 %25) or in ${PASSWORD_ENV}`,
      'E_QUEUE_AUTH',
    );
  }
  if (/NOAUTH/i.test(message)) {
    return new ShiftmixError(
      `Redis at ${address.display} needs a password`,
      `Give it in the URL (redis://:PASSWORD@HOST:PORT) or in ${PASSWORD_ENV}`,
      'E_QUEUE_AUTH',
    );
  }
  return new ShiftmixError(
    `cannot reach Redis at ${address.display}: ${describeQueueError(error)}`,
    'Start redis-server there and check the host and port; a Redis that other machines use must listen on their network (bind, protected-mode)',
    'E_QUEUE_CONNECT',
  );
}

/**
 * Connects once, with no retries, to check that the server answers, takes the password
 * and is recent enough for BullMQ. Returns its version.
 */
export async function probeRedis(address: QueueAddress): Promise<string> {
  const client = new Redis({
    ...redisOptions(address),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 10_000,
  });
  let failure: unknown;
  // ioredis reports a refused AUTH as an event; connect() alone would only see the close.
  client.on('error', (error: unknown) => void (failure ??= error));
  let info: string;
  try {
    await client.connect();
    info = await client.info('server');
  } catch (error) {
    throw redisError(failure ?? error, address);
  } finally {
    client.disconnect();
  }
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0';
  if (Number(version.split('.')[0]) < 5) {
    throw new ShiftmixError(
      `Redis at ${address.display} is version ${version}; BullMQ needs 5 or later`,
      'Upgrade redis-server (Debian 12 ships 7.0)',
      'E_QUEUE_CONNECT',
    );
  }
  return version;
}

/** A client for the queue's own keys (data files); it waits through a Redis restart. */
export function openRedis(address: QueueAddress): Redis {
  const client = new Redis(redisOptions(address));
  // Connection errors surface through the queue's own reporting; an unhandled 'error' event would end the process.
  client.on('error', () => {});
  return client;
}

/** Stores a data file once under its content hash; a file already there is not sent again. */
export async function uploadData(client: Redis, file: string): Promise<DataRef> {
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `${QUEUE_PREFIX}:data:${sha256}`;
  if (!(await client.exists(key))) await client.set(key, bytes);
  return { key, sha256, name: basename(file), bytes: bytes.length };
}

/** The folder data files are cached in on a worker's machine, under the system's temporary directory. */
export const DATA_CACHE_DIR = join(tmpdir(), 'shiftmix-data');

/** Where a data file is cached (whether or not it is there yet). */
export function cachedDataFile(ref: DataRef, cacheDir = DATA_CACHE_DIR): string {
  return join(cacheDir, `${ref.sha256.slice(0, 16)}-${basename(ref.name)}`);
}

/**
 * The local copy of a data file (fetched from Redis once per machine and checked against
 * its hash), in the cache folder.
 */
export async function fetchData(client: Redis, ref: DataRef, cacheDir = DATA_CACHE_DIR): Promise<string> {
  const file = cachedDataFile(ref, cacheDir);
  if (existsSync(file)) return file;
  const bytes = await client.getBuffer(ref.key);
  if (!bytes) {
    throw new ShiftmixError(
      `the data file ${ref.name} of this run is gone from Redis (${ref.key})`,
      'Submit the suite again: the submitter stores its data files with the jobs',
      'E_QUEUE_DATA',
    );
  }
  if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) {
    throw new ShiftmixError(`the data file ${ref.name} in Redis does not match its hash`, 'Submit the suite again to store the file anew', 'E_QUEUE_DATA');
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, bytes);
  return file;
}
