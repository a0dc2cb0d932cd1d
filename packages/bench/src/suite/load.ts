import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import { findUp, shippedDir } from '../shipped.js';
import type { Suite } from './types.js';
import { validateSuite } from './validate.js';

export interface LoadSuiteOptions {
  /** Folders searched for NAME.json first, then benchmarks/suites above the working directory, then the suites this package ships. */
  suitesDirs?: string[];
  cwd?: string;
}

/** Parses and validates a suite file. */
export function readSuiteFile(path: string): Suite {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ShiftmixError(`cannot read suite file ${path}: ${(error as Error).message}`, 'Check the path given to --suite', 'E_SUITE');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ShiftmixError(`suite file ${path} is not valid JSON: ${(error as Error).message}`, 'Fix the JSON syntax', 'E_SUITE');
  }
  return { ...validateSuite(raw, path), source: resolve(path) };
}

/**
 * Finds a suite by file path (anything with a slash or ending in .json) or by name:
 * NAME.json in `suitesDirs`, then in benchmarks/suites of the working directory or a
 * folder above it, then among the suites the package ships (`default`).
 */
export function loadSuite(nameOrPath: string, options: LoadSuiteOptions = {}): Suite {
  const cwd = options.cwd ?? process.cwd();
  if (nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json')) {
    return readSuiteFile(isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath));
  }
  const found = [findUp(cwd, join('benchmarks', 'suites')), shippedDir('suites')].filter((d): d is string => d !== undefined);
  const dirs = [...new Set([...(options.suitesDirs ?? []), ...found].map((d) => resolve(d)))];
  for (const dir of dirs) {
    const file = join(dir, `${nameOrPath}.json`);
    if (existsSync(file)) return readSuiteFile(file);
  }
  throw new ShiftmixError(
    `no suite named "${nameOrPath}"${dirs.length ? ` in ${dirs.join(', ')}` : ''}`,
    'Give a suite file path (--suite ./my-suite.json), or put NAME.json in benchmarks/suites of this folder or one above it',
    'E_SUITE',
  );
}
