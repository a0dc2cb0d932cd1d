import { ShiftmixError } from '@shiftmix/core';

/** Where the queue's Redis is, read from a redis:// or rediss:// URL. */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with the password replaced by ***: the only form that is ever printed. */
  display: string;
}

/** The environment variable a password is read from when the URL carries none (so it stays out of `ps`). */
export const PASSWORD_ENV = 'SHIFTMIX_REDIS_PASSWORD';

const FORMS = 'Write redis://HOST:PORT, redis://:PASSWORD@HOST:PORT (or redis://USER:PASSWORD@HOST:PORT/DB), or rediss:// for TLS';

/**
 * A URL-like text with anything between "//" and the last "@" masked, for messages about a
 * URL that did not parse: an unescaped password may itself hold "@" or "/".
 */
export function maskCredentials(text: string): string {
  return text.replace(/\/\/.*@/s, '//***@');
}

function fail(text: string, problem: string, fix = FORMS): never {
  throw new ShiftmixError(`queue URL "${maskCredentials(text)}" ${problem}`, fix, 'E_QUEUE_URL');
}

/**
 * Parses a Redis URL. Percent-encoded characters in the user name and password are
 * decoded; the password may instead come from SHIFTMIX_REDIS_PASSWORD.
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueAddress {
  if (!text.includes('://')) fail(text, 'has no scheme', `Write redis://${text.trim()} if that is the host and port. ${FORMS}`);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    fail(text, 'is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') fail(text, `has the scheme "${url.protocol.replace(/:$/, '')}"; the queue is a Redis server`);
  if (!url.hostname) fail(text, 'names no host');
  if (url.search || url.hash) fail(text, 'has a query or fragment, which the queue does not read', `Remove what follows "?" or "#". ${FORMS}`);
  const port = url.port ? Number(url.port) : 6379;
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) fail(text, `has the path "/${path}"; the only path a Redis URL takes is a database number`);
  const db = path === '' ? 0 : Number(path);
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    fail(text, 'has a malformed %-escape in its user name or password', 'Write characters such as @ : / % in a password as %40 %3A %2F %25');
  }
  password ??= env[PASSWORD_ENV] || undefined;
  // IPv6 hosts keep their brackets in URL.host, which is what a reader expects to see.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const auth = username || password ? `${username ?? ''}${password ? ':***' : ''}@` : '';
  const display = `${url.protocol}//${auth}${url.hostname}:${port}${db ? `/${db}` : ''}`;
  return { host, port, db, username, password, tls: url.protocol === 'rediss:', display };
}

/** Connection options for ioredis and BullMQ. */
export function redisOptions(address: QueueAddress): {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
} {
  return {
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username ? { username: address.username } : {}),
    ...(address.password ? { password: address.password } : {}),
    ...(address.tls ? { tls: {} } : {}),
    // Commands wait for the connection to come back instead of failing: a Redis restart
    // in the middle of a sweep is a pause, not an error.
    maxRetriesPerRequest: null,
  };
}
