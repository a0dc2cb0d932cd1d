import { constants } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Flushes a directory entry table; not every platform lets a directory be opened, so failure there is ignored. */
async function fsyncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Windows cannot fsync a directory; its renames are durable once they return.
  } finally {
    await handle?.close();
  }
}

/** Sibling paths used while a directory is replaced. */
export function stagingPaths(target: string): { partial: string; previous: string } {
  const parent = dirname(target);
  const name = basename(target);
  return { partial: join(parent, `.${name}.partial`), previous: join(parent, `.${name}.previous`) };
}

/**
 * When a process died between moving the old directory aside and moving the new one in,
 * only `.<name>.previous` exists; it is complete, so it is moved back.
 */
export async function recoverInterrupted(target: string): Promise<void> {
  const { previous } = stagingPaths(target);
  if (!(await exists(target)) && (await exists(previous))) {
    await rename(previous, target);
    await fsyncDir(dirname(target));
  }
}

/**
 * Writes a set of files as one directory, all or nothing: each file goes into a staging
 * directory next to `target` and is fsynced, the staging directory is fsynced, then it
 * replaces `target` by two renames in the same parent, which is fsynced. If anything
 * fails before the renames, the staging directory is removed and `target` is untouched;
 * a crash between the two renames leaves the old directory at `.<name>.previous`, which
 * `recoverInterrupted` restores.
 */
export async function writeDirectoryAtomically(target: string, files: AsyncIterable<[string, Uint8Array]>): Promise<void> {
  const parent = dirname(target);
  const { partial, previous } = stagingPaths(target);
  await mkdir(parent, { recursive: true });
  await recoverInterrupted(target);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial);
  try {
    // Each file is produced while writing (see encodeCheckpoint), so a failure can happen midway.
    for await (const [name, content] of files) {
      const handle = await open(join(partial, name), 'w');
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await fsyncDir(partial);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  const hadTarget = await exists(target);
  if (hadTarget) {
    await rm(previous, { recursive: true, force: true });
    await rename(target, previous);
  }
  await rename(partial, target);
  await fsyncDir(parent);
  if (hadTarget) await rm(previous, { recursive: true, force: true });
}
