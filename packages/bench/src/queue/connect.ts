import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import { Redis } from 'ioredis';
import { writeFileAtomic } from '../store.js';
import { redisOptions, PASSWORD_ENV, type QueueAddress } from './address.js';
import { QUEUE_PREFIX, type DataRef } from './jobs.js';

/** What went wrong talking to Redis, as a ShiftmixError that names the server by its safe address only. */
export function redisError(error: unknown, address: QueueAddress): ShiftmixError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return new ShiftmixError(
      `Redis at ${address.display} refused the user name or password`,
      `Check the password in the URL (write @ : / % in it as %40 %3A %2F %25) or in ${PASSWORD_ENV}`,
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
  const reason = code ?? message.split('\n')[0];
  return new ShiftmixError(
    `cannot reach Redis at ${address.display} (${reason})`,
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

/**
 * The local copy of a data file (fetched from Redis once per machine and checked against
 * its hash), in a cache folder under the system's temporary directory.
 */
export async function fetchData(client: Redis, ref: DataRef, cacheDir = join(tmpdir(), 'shiftmix-data')): Promise<string> {
  const file = join(cacheDir, `${ref.sha256.slice(0, 16)}-${ref.name}`);
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
