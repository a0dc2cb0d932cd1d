import { constants, accessSync, existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { lockRunDirectory, type RunLock } from '@shiftmix/core/tooling';
import type { Io } from './command.js';
import { InputError } from './errors.js';
import { exitOnStopSignals } from './commands/shared.js';

function blank(flag: string): InputError {
  return new InputError(`${flag} is empty`, `Pass a directory, e.g. ${flag} runs/hsm (it is created when missing)`);
}

/** Whether this process may create and delete entries in directory `dir`. */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Probes that `dir`, or the directory it would be created in, takes new entries, by
 * making one and removing it. access() alone says yes to root where the file system
 * still says no (a read-only mount, /proc).
 */
function probe(dir: string): NodeJS.ErrnoException | undefined {
  const test = path.join(dir, `.shiftmix-write-test-${process.pid}`);
  try {
    mkdirSync(test);
    rmdirSync(test);
    return undefined;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

/**
 * An output directory the user named, checked before any work starts: not empty, not a
 * file, not under a file, and writable (it, or the nearest folder above it that exists,
 * if it is still to be created). Nothing is created here. Returns the absolute path.
 */
export function requireOutputDir(raw: string, cwd: string, flag: string): string {
  if (raw.trim() === '') throw blank(flag);
  const resolved = path.resolve(cwd, raw);
  let existing = resolved;
  while (!existsSync(existing)) existing = path.dirname(existing);
  if (!statSync(existing).isDirectory()) {
    if (existing === resolved) throw new InputError(`${flag} ${raw} is a file, not a directory`, `Pass the path of a directory, new or existing`);
    throw new InputError(`${flag} ${raw} cannot be created: ${existing} is a file`, `Pass a path that is not under a file`);
  }
  const failure = writable(existing) ? probe(existing) : ({ code: 'EACCES' } as NodeJS.ErrnoException);
  if (failure) {
    const where = existing === resolved ? `${flag} ${raw}` : `${flag} ${raw} cannot be created: ${existing}`;
    throw new InputError(
      `${where} is not writable (${failure.code ?? failure.message})`,
      `Pass a directory you can write to, or change the permissions of ${existing}`,
    );
  }
  return resolved;
}

/** A run directory that must exist already (resume's --out), checked like an output directory. */
export function requireRunFolder(raw: string, cwd: string, flag: string): string {
  if (raw.trim() === '') throw blank(flag);
  const resolved = path.resolve(cwd, raw);
  if (!existsSync(resolved)) throw new InputError(`${flag} ${raw}: no such directory`, 'Pass the --out directory of a shiftmix train run');
  if (!statSync(resolved).isDirectory()) throw new InputError(`${flag} ${raw} is not a directory`, 'Pass the --out directory of a shiftmix train run');
  return requireOutputDir(raw, cwd, flag);
}

export interface LockedRunFolder {
  lock: RunLock;
  /** Lets go of the lock and, when this command created the directory and left it empty, removes it. */
  release(): void;
}

/**
 * Takes the run directory's lock (creating the directory) before anything is written to
 * it: another train or resume on it stops with one line naming the holder. Until the
 * training itself starts, Ctrl-C or SIGTERM ends the command at once; the lock goes with it.
 */
export function lockRunFolder(io: Io, outDir: string, command: string): LockedRunFolder {
  const created = !existsSync(outDir);
  const lock = lockRunDirectory(outDir, { command, onWarning: (message) => io.stderr(`shiftmix: warning: ${message}\n`) });
  const stopGuard = exitOnStopSignals();
  return {
    lock,
    release() {
      stopGuard();
      lock.release();
      if (created) {
        try {
          rmdirSync(outDir);
        } catch {
          // Not empty: the run wrote to it.
        }
      }
    },
  };
}
