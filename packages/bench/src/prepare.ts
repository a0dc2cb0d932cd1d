import { dirname, join, resolve } from 'node:path';
import { ShiftmixError } from '@shiftmix/core';
import { planSuite, selectRuns, type PlannedRun, type Shard } from './plan.js';
import { findUp } from './shipped.js';
import { loadSuite } from './suite/load.js';
import type { Suite } from './suite/types.js';
import { suitePresets, validateSuite } from './suite/validate.js';
import { getTask } from './tasks/registry.js';

/** Which suite, which of its runs, and where their results go: shared by local, queued and merged runs. */
export interface SuiteTarget {
  /** A suite name (benchmarks/suites/NAME.json), a suite file path, or a parsed suite. */
  suite: string | Suite;
  /** Default "quick". */
  preset?: string;
  /** Run only these benchmarks (by benchmark or task name). */
  only?: string[];
  /** Run only these models (by the suite's model names). */
  models?: string[];
  /** Run only every N-th run of the selection: shard K of N (see `parseShard`). */
  shard?: Shard;
  /** Where run files and the report go. Default: RESULTS/BACKEND/SUITE-PRESET. */
  outDir?: string;
  /** Root of all results. Default: benchmarks/results next to a benchmarks/suites folder above `cwd` (a shiftmix checkout), else ./bench-results. */
  resultsRoot?: string;
  /** The most runs the suite may expand to (default MAX_RUNS, 10,000); more is an error that names the count. */
  maxRuns?: number;
  /** Folders searched for suite names first (then benchmarks/suites above `cwd`, then the suites this package ships). */
  suitesDirs?: string[];
  cwd?: string;
}

export interface PreparedSuite {
  suite: Suite;
  preset: string;
  backendLabel: string;
  /** Every run of the suite under the preset. */
  all: PlannedRun[];
  /** The runs the target selects, in suite order. */
  selected: PlannedRun[];
  outDir: string;
  resultsRoot: string;
  /** Folder of the suite file (data paths start here), or the working directory. */
  baseDir: string;
}

/** A suite given as an object is checked like a file; `source` (where it was read from) is kept. */
function checkedSuite(given: Suite): Suite {
  const { source, ...raw } = given;
  return { ...validateSuite(raw, source ?? `suite "${given.name}"`), source };
}

/** benchmarks/results of the repository the working directory is in, else ./bench-results. */
export function defaultResultsRoot(cwd: string): string {
  const suites = findUp(cwd, join('benchmarks', 'suites'));
  return suites ? join(dirname(suites), 'results') : resolve(cwd, 'bench-results');
}

/** Loads and checks the target's suite and preset. */
export function openSuite(target: SuiteTarget): { suite: Suite; preset: string } {
  const cwd = target.cwd ?? process.cwd();
  const suite = typeof target.suite === 'string' ? loadSuite(target.suite, { cwd, suitesDirs: target.suitesDirs }) : checkedSuite(target.suite);
  const preset = target.preset ?? 'quick';
  const presets = suitePresets(suite);
  if (!presets.includes(preset)) {
    throw new ShiftmixError(`suite "${suite.name}" has no preset "${preset}"`, `Its presets: ${presets.join(', ')}`, 'E_PRESET');
  }
  return { suite, preset };
}

/**
 * Checks that the data files of the selected runs are there, before any run starts or is
 * queued; `cwd` lets the error suggest the path of a file given relative to it instead.
 */
export function checkDataFiles(prepared: PreparedSuite, cwd: string): void {
  const names = new Set(prepared.selected.map((p) => p.benchmark));
  for (const benchmark of prepared.suite.benchmarks) {
    if (names.has(benchmark.name)) getTask(benchmark.task).dataFile?.(benchmark, prepared.baseDir, { cwd, fromSuiteFile: prepared.suite.source !== undefined });
  }
}

/** Plans the target's runs on a backend (its label is part of every config hash) and places its results. */
export function prepareSuite(target: SuiteTarget, backendLabel: string, opened = openSuite(target)): PreparedSuite {
  const cwd = target.cwd ?? process.cwd();
  const { suite, preset } = opened;
  const all = planSuite(suite, preset, backendLabel, target.maxRuns);
  const selected = selectRuns(suite, all, preset, target);
  const resultsRoot = resolve(cwd, target.resultsRoot ?? defaultResultsRoot(cwd));
  const outDir = resolve(cwd, target.outDir ?? join(resultsRoot, backendLabel, `${suite.name}-${preset}`));
  return { suite, preset, backendLabel, all, selected, outDir, resultsRoot, baseDir: suite.source ? dirname(suite.source) : cwd };
}
