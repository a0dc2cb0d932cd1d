import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './tasks/types.js';

export const RUNS_DIR = 'runs';

/** Writes through a temporary file and a rename, so an interrupted write never leaves half a file. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The finished runs in `outDir`, by run id; unreadable files are ignored (the run is redone). */
export function readFinishedRuns(outDir: string): Map<string, RunResult> {
  const runs = new Map<string, RunResult>();
  let files: string[] = [];
  try {
    files = readdirSync(join(outDir, RUNS_DIR)).filter((f) => f.endsWith('.json'));
  } catch {
    return runs;
  }
  for (const file of files) {
    try {
      const result = JSON.parse(readFileSync(join(outDir, RUNS_DIR, file), 'utf8')) as RunResult;
      if (result.format === 1 && typeof result.id === 'string' && typeof result.configHash === 'string') runs.set(result.id, result);
    } catch {
      // A torn or foreign file: the run it stood for is simply not finished.
    }
  }
  return runs;
}

/** Indented JSON with arrays of numbers kept on one line, so curves stay readable. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+|,\s*null)*)\s*\]/g, (_, body: string) => `[${body.split(/,\s*/).join(', ')}]`)}\n`;
}

export function writeRun(outDir: string, result: RunResult): string {
  const dir = join(outDir, RUNS_DIR);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.id}.json`);
  writeFileAtomic(path, formatJson(result));
  return path;
}
