import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ShiftmixError } from '../errors.js';

/** The lock file in a run directory while a process trains in it. */
export const RUN_LOCK_FILE = 'run.lock';

/** What run.lock holds: who writes the run directory, and since when. */
export interface RunLockHolder {
  pid: number;
  host: string;
  command: string;
  /** ISO 8601 time the lock was taken. */
  started: string;
  /** Tells this holder's lock from a later one, so a process removes only its own. */
  token: string;
}

export interface RunLockOptions {
  /** Recorded in the lock and shown to a second process; default: this process's command line. */
  command?: string;
  /** Told when a lock left by a process that is gone is taken over; default: console.warn. */
  onWarning?: (message: string) => void;
}

function parseHolder(text: string): RunLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<RunLockHolder>;
    const ok = Number.isInteger(value.pid) && typeof value.host === 'string' && typeof value.started === 'string' && typeof value.token === 'string';
    return ok ? ({ command: '', ...value } as RunLockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether `holder` is a process of this machine that has ended (signal 0 only asks). */
function isGone(holder: RunLockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function ioError(dir: string, error: unknown): ShiftmixError {
  const { code, message } = error as NodeJS.ErrnoException;
  return new ShiftmixError(
    `cannot write the run directory ${dir} (${code ?? message})`,
    'Choose a directory you can write to, or fix its permissions',
    'E_RUN_DIR',
  );
}

function lockedError(dir: string, file: string, holder: RunLockHolder | undefined): ShiftmixError {
  if (!holder) {
    return new ShiftmixError(
      `run directory ${dir} is locked by ${file}, which cannot be read`,
      `If no shiftmix process is writing ${dir}, delete ${file}`,
      'E_RUN_LOCKED',
    );
  }
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  const command = holder.command ? ` (${holder.command})` : '';
  return new ShiftmixError(
    `run directory ${dir} is in use by process ${holder.pid}${where}${command} since ${holder.started}`,
    `Wait for it to finish or stop it, or use another directory; if that process is no longer running, delete ${file}`,
    'E_RUN_LOCKED',
  );
}

/**
 * Moves a lock judged stale aside and checks that what moved is still that lock: two
 * processes that both found it stale cannot both take the directory, because the
 * second one moves (and puts back) the first one's new lock instead.
 */
function removeStale(file: string, staleText: string, token: string): boolean {
  const aside = `${file}.stale-${process.pid}-${token}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (readText(aside) === staleText) {
    unlinkSync(aside);
    return true;
  }
  try {
    linkSync(aside, file);
  } catch {
    // A newer lock is in place; the one moved aside lost its directory to it.
  }
  unlinkSync(aside);
  return false;
}

/** Creates `file` holding `text` only if it does not exist: written beside it, then linked, so a reader never sees it half-written. */
function createExclusive(file: string, text: string, token: string): boolean {
  const temporary = `${file}.${process.pid}-${token}.tmp`;
  writeFileSync(temporary, text);
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create is nearly as good.
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * The lock of one run directory, held from `lockRunDirectory` until `release()` or the
 * end of the process (an `exit` listener releases it, so `process.exit` on a second
 * Ctrl-C does too). A process killed outright leaves run.lock behind; the next one finds
 * its process gone and takes it over.
 */
export class RunLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  constructor(
    readonly dir: string,
    readonly file: string,
    readonly holder: RunLockHolder,
  ) {
    process.on('exit', this.onExit);
  }

  get held(): boolean {
    return !this.released;
  }

  /** Removes run.lock if it is still this lock's; safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      const current = readText(this.file);
      if (current !== undefined && parseHolder(current)?.token === this.holder.token) unlinkSync(this.file);
    } catch {
      // Nothing to release: the directory is gone or read-only now.
    }
  }
}

/**
 * Takes the lock of run directory `dir` (created if missing) by creating run.lock
 * exclusively, with this process's pid, host, command and start time. A directory
 * another live process holds is refused with a ShiftmixError (E_RUN_LOCKED) naming it;
 * a lock whose process has ended on this host is taken over with a warning.
 */
export function lockRunDirectory(dir: string, options: RunLockOptions = {}): RunLock {
  const target = resolve(dir);
  const file = join(target, RUN_LOCK_FILE);
  try {
    mkdirSync(target, { recursive: true });
    if (!statSync(target).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (error) {
    throw ioError(target, error);
  }
  const warn = options.onWarning ?? ((message: string) => console.warn(`shiftmix: warning: ${message}`));
  const command = (options.command ?? process.argv.slice(1).join(' ')).slice(0, 300);
  for (let attempt = 0; attempt < 5; attempt++) {
    const token = randomBytes(8).toString('hex');
    const holder: RunLockHolder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString(), token };
    let created: boolean;
    try {
      created = createExclusive(file, `${JSON.stringify(holder)}\n`, token);
    } catch (error) {
      throw ioError(target, error);
    }
    if (created) return new RunLock(target, file, holder);
    const text = readText(file);
    if (text === undefined) continue; // released in between
    const current = parseHolder(text);
    if (!current || !isGone(current)) throw lockedError(target, file, current);
    if (removeStale(file, text, token)) {
      warn(
        `${file} was left by process ${current.pid} (${current.command || 'unknown command'}) since ${current.started}, which is no longer running; taking the directory over`,
      );
    }
  }
  throw lockedError(target, file, parseHolder(readText(file) ?? ''));
}

/**
 * The lock a training call writes `dir` under: `given` (the caller took it first, to write
 * files of its own there), checked to be that directory's and still held, or one taken
 * for the call. `release` lets go of a lock taken here, and of nothing else.
 */
export function holdRunLock(dir: string, given: RunLock | undefined, options: RunLockOptions): { lock: RunLock; release: () => void } {
  if (!given) {
    const lock = lockRunDirectory(dir, options);
    return { lock, release: () => lock.release() };
  }
  if (!given.held || given.dir !== resolve(dir)) {
    throw new ShiftmixError(
      `the lock given for ${resolve(dir)} is ${given.held ? `the lock of ${given.dir}` : 'released'}`,
      'Pass the lock lockRunDirectory returned for the run directory, while it is held',
      'E_RUN_LOCKED',
    );
  }
  return { lock: given, release: () => undefined };
}
