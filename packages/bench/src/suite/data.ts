import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import type { Benchmark } from './types.js';

/** How a missing data file is explained: whether `baseDir` is the suite file's folder, and the working directory. */
export interface DataPathHint {
  /** False when the suite came without a file, so `baseDir` is the working directory. Default true. */
  fromSuiteFile?: boolean;
  /** When `data` names a file relative to this folder instead, the error gives the path to write. */
  cwd?: string;
}

/**
 * The file the benchmark's `data` names, relative to `baseDir` (the suite file's folder), or
 * undefined when it names none. A file that is not there is an error naming the folder the
 * path is read from.
 */
export function benchmarkDataPath(benchmark: Benchmark, baseDir: string, hint: DataPathHint = {}): string | undefined {
  if (!benchmark.data) return undefined;
  const file = resolve(baseDir, benchmark.data);
  if (existsSync(file)) return file;
  const there = hint.cwd && !isAbsolute(benchmark.data) ? resolve(hint.cwd, benchmark.data) : undefined;
  const instead = there && existsSync(there) ? relative(baseDir, there).split('\\').join('/') : undefined;
  const base = hint.fromSuiteFile === false ? `the working directory, ${baseDir} (the suite has no file)` : `the folder of the suite file, ${baseDir}`;
  throw new ShiftmixError(
    `benchmark "${benchmark.name}" reads its data "${benchmark.data}" from ${file}, which does not exist`,
    `"data" is relative to ${base}${instead ? `: write "data": "${instead}" for the file you mean` : '; give a path from there or an absolute one'}`,
    'E_DATA_MISSING',
  );
}
