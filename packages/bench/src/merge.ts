import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import { finishSuite, type SuiteRunReport } from './finish.js';
import { openSuite, prepareSuite, type SuiteTarget } from './prepare.js';
import { readFinishedRuns, RUNS_DIR, writeRun } from './store.js';
import type { RunResult } from './tasks/types.js';

export interface MergeOptions extends SuiteTarget {
  /** Results folders to merge (each with its runs/ folder), e.g. those of the shards of a suite. */
  from: string[];
  json?: boolean;
  quiet?: boolean;
}

/**
 * Merges the run files of several results folders of one suite and preset (the shards
 * of a suite, or runs made on several machines) into one folder and writes its report.
 * Nothing is run; runs of another config than the suite's are left out.
 */
export function mergeResults(options: MergeOptions): SuiteRunReport {
  const cwd = options.cwd ?? process.cwd();
  const opened = openSuite(options);
  const { suite, preset } = opened;
  const found: RunResult[] = [];
  for (const dir of options.from.map((d) => resolve(cwd, d))) {
    if (!existsSync(join(dir, RUNS_DIR))) {
      throw new ShiftmixError(
        `${dir} has no ${RUNS_DIR}/ folder`,
        'Give the results folders that the shards wrote (their --out), each holding runs/*.json',
        'E_MERGE',
      );
    }
    found.push(...[...readFinishedRuns(dir).values()].filter((r) => r.suite === suite.name && r.preset === preset));
  }
  const labels = [...new Set(found.map((r) => String(r.config.backend)))];
  if (labels.length !== 1) {
    throw new ShiftmixError(
      labels.length
        ? `the folders hold runs of several backends (${labels.join(', ')})`
        : `the folders hold no runs of suite "${suite.name}", preset "${preset}"`,
      labels.length ? 'Merge the folders of one backend at a time' : 'Check --suite, --preset and the folders given',
      'E_MERGE',
    );
  }
  const prepared = prepareSuite(options, labels[0], opened);
  const finished = readFinishedRuns(prepared.outDir);
  // A run that two folders both hold (overlapping shards) is taken from the first.
  const byId = new Map<string, RunResult>();
  for (const result of found) if (!byId.has(result.id)) byId.set(result.id, result);
  const merged: string[] = [];
  for (const plan of prepared.all) {
    const result = byId.get(plan.id);
    if (result?.configHash !== plan.hash || finished.get(plan.id)?.configHash === plan.hash) continue;
    writeRun(prepared.outDir, result);
    finished.set(plan.id, result);
    merged.push(plan.id);
  }
  const pending = prepared.selected.filter((p) => finished.get(p.id)?.configHash !== p.hash).map((p) => p.id);
  const skipped = prepared.selected.filter((p) => !merged.includes(p.id) && !pending.includes(p.id)).map((p) => p.id);
  return finishSuite({ ...prepared, finished, ran: merged, skipped, failed: [], pending, json: options.json, quiet: options.quiet });
}
