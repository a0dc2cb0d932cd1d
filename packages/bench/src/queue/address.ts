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
const ESCAPES = 'write @ : / ? # % in a password as %40 %3A %2F %3F %23 %25';

/**
 * What may be shown of a URL-like text the user gave: each part already stripped of
 * anything that could be a credential. Every message about a queue URL is built from
 * these parts only, never from the text itself.
 */
interface ShownParts {
  /** "redis", "http", ...: letters, digits and + . - only; "" when the text has none. */
  scheme: string;
  /** The slashes after "scheme:" ("//" in a well-formed URL). */
  slashes: string;
  /** Whether the text has an "@": what came before it is replaced by ***. */
  credentials: boolean;
  host: string;
  /** ":6379"; a port that is not a number shows as ":***". */
  port: string;
  /** "/2"; a path that is not a database number shows as "/***". */
  path: string;
  /** Whether a query or fragment (what follows "?" or "#") was dropped. */
  query: boolean;
}

const SECRET = '***';

/** Control and line-separator characters written as \uXXXX, and long text cut, so a message stays one line. */
function printable(text: string): string {
  const escaped = text.replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 80 ? `${escaped.slice(0, 80)}...` : escaped;
}

/**
 * Splits a URL-like text into what may be shown. A password may hold any character when
 * the user did not %-escape it, so: everything before the last "@" is dropped (a password
 * containing "@" ends at the last one), and so is everything from the first "?" or "#"
 * (a query may carry a password); when a "?" or "#" comes before the last "@", neither
 * reading can be trusted and the whole address is dropped. Of the host part only a
 * numeric port and a numeric database are shown.
 */
function shownParts(text: string): ShownParts {
  // A scheme is recognised only when followed by "//", or as redis:/rediss: with fewer or
  // more slashes; otherwise "user:pass@host" would show "user" as a scheme.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/+)/.exec(text) ?? /^(rediss?):(\/*)/i.exec(text);
  const rest = scheme ? text.slice(scheme[0].length) : text;
  const at = rest.lastIndexOf('@');
  const queryAt = rest.search(/[?#]/);
  const parts: ShownParts = {
    scheme: scheme?.[1] ?? '',
    slashes: scheme?.[2] ?? '',
    credentials: at >= 0,
    host: '',
    port: '',
    path: '',
    query: queryAt >= 0,
  };
  if (queryAt >= 0 && queryAt < at) return { ...parts, host: SECRET };
  const tail = rest.slice(at + 1, queryAt > at ? queryAt : undefined);
  const slash = tail.indexOf('/');
  const hostPort = slash >= 0 ? tail.slice(0, slash) : tail;
  const path = slash >= 0 ? tail.slice(slash + 1) : undefined;
  const bracket = /^\[[^\]]*\]/.exec(hostPort);
  const hostEnd = bracket ? bracket[0].length : hostPort.includes(':') ? hostPort.indexOf(':') : hostPort.length;
  const port = hostPort.slice(hostEnd).replace(/^:/, '');
  parts.host = printable(hostPort.slice(0, hostEnd));
  if (hostPort.length > hostEnd) parts.port = `:${/^\d{0,5}$/.test(port) ? port : SECRET}`;
  if (path !== undefined) parts.path = `/${/^\d{0,3}$/.test(path) ? path : SECRET}`;
  return parts;
}

const joined = (p: ShownParts): string =>
  `${p.scheme ? `${p.scheme}:${p.slashes}` : ''}${p.credentials ? `${SECRET}@` : ''}${p.host}${p.port}${p.path}${p.query ? `?${SECRET}` : ''}`;

/**
 * A URL-like text as messages may show it: anything before the last "@" (user name and
 * password) and any query or fragment replaced by ***, a port or path that is not a number
 * too. Messages about a queue URL show the user's text only through this function.
 */
export function maskCredentials(text: string): string {
  return joined(shownParts(text.trim()));
}

/** The address the user likely meant, for a fix: redis:// with the host, port and database shown, placeholders for the rest. */
function suggestion(p: ShownParts): string {
  const auth = p.credentials ? ':PASSWORD@' : '';
  const host = p.host && p.host !== SECRET ? p.host : 'HOST';
  const port = p.port && p.port !== `:${SECRET}` ? p.port : p.port ? ':PORT' : '';
  const path = p.path && p.path !== `/${SECRET}` ? p.path : '';
  return `${/^rediss$/i.test(p.scheme) ? 'rediss' : 'redis'}://${auth}${host}${port}${path}`;
}

function fail(parts: ShownParts, problem: string, fix = FORMS): never {
  throw new ShiftmixError(`queue URL "${joined(parts)}" ${problem}`, fix, 'E_QUEUE_URL');
}

/**
 * Parses a Redis URL. Percent-encoded characters in the user name and password are
 * decoded; the password may instead come from SHIFTMIX_REDIS_PASSWORD. Errors show the
 * text only as `maskCredentials` does.
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueAddress {
  const trimmed = text.trim();
  const parts = shownParts(trimmed);
  const like = parts.credentials ? ` (${ESCAPES})` : '';
  if (!trimmed) fail(parts, 'is empty', FORMS);
  if (!parts.scheme) fail(parts, 'has no scheme', `Write ${suggestion(parts)}${like}. ${FORMS}`);
  if (/^rediss?$/i.test(parts.scheme) && parts.slashes !== '//') {
    fail(
      parts,
      `has ${parts.slashes.length || 'no'} slash${parts.slashes.length === 1 ? '' : 'es'} after "${parts.scheme}:"`,
      `Write ${suggestion(parts)}${like}`,
    );
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    fail(parts, 'is not a URL', `${FORMS}; ${ESCAPES}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    fail(parts, `has the scheme "${parts.scheme}"; the queue is a Redis server`, `Write ${suggestion(parts)}`);
  if (url.search || url.hash) fail(parts, 'has a query or fragment, which the queue does not read', `Remove what follows "?" or "#"${like}. ${FORMS}`);
  if (!url.hostname) fail(parts, 'names no host', `${FORMS}${like}`);
  const port = url.port ? Number(url.port) : 6379;
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path))
    fail(parts, 'has a path that is not a database number; the only path a Redis URL takes is one (/0, /1, ...)', `${FORMS}${like}`);
  const db = path === '' ? 0 : Number(path);
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    fail(parts, 'has a malformed %-escape in its user name or password', 'Write characters such as @ : / ? # % in a password as %40 %3A %2F %3F %23 %25');
  }
  password ??= env[PASSWORD_ENV] || undefined;
  // IPv6 hosts keep their brackets in URL.host, which is what a reader expects to see.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // A user name shows only beside a password in the URL: a lone one (redis://NAME@HOST) may
  // be a password written in the wrong place.
  const name = url.username && url.password ? url.username : url.username ? SECRET : '';
  const auth = name || password ? `${name}${password ? ':***' : ''}@` : '';
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
