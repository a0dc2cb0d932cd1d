import { relative } from 'node:path';
import type { BackendInfo } from '@shiftmix/core';
import { describeEnvironment, type Environment } from './environment.js';
import type { PlannedRun } from './plan.js';
import { writeReport, writeResultsIndex, type BenchmarkReport, type SuiteSummary } from './report/write.js';
import type { Suite } from './suite/types.js';
import type { RunResult } from './tasks/types.js';

/** What a suite run (local, queued or merged) wrote and did. */
export interface SuiteRunReport {
  outDir: string;
  /** The report's Markdown file. */
  readme: string;
  backend: string;
  environment: Environment;
  benchmarks: BenchmarkReport[];
  summary: SuiteSummary;
  ran: string[];
  skipped: string[];
  failed: { id: string; error: string }[];
  /** Selected runs with no result yet: queued or running elsewhere, or in another shard. */
  pending: string[];
}

export interface FinishOptions {
  suite: Suite;
  preset: string;
  backendLabel: string;
  /** The report's environment when no run has finished; otherwise the last run's is reported. */
  environment?: Environment;
  /** Every planned run of the suite: the report covers all that have a finished result. */
  all: PlannedRun[];
  finished: Map<string, RunResult>;
  outDir: string;
  resultsRoot: string;
  ran: string[];
  skipped: string[];
  failed: { id: string; error: string }[];
  pending?: string[];
  json?: boolean;
  quiet?: boolean;
}

/**
 * Writes the report of every finished run (README.md, summary.json, charts), the results
 * index above it, and prints `formatSummary` on stdout unless quiet.
 */
export function finishSuite(o: FinishOptions): SuiteRunReport {
  const results = new Map<string, RunResult[]>();
  for (const p of o.all) {
    const r = o.finished.get(p.id);
    if (r && r.configHash === p.hash) results.set(p.benchmark, [...(results.get(p.benchmark) ?? []), r]);
  }
  // The report describes the runs it reports: the machine and time of the last one to finish
  // (a call that only resumes finished runs, or collects queued ones, ran none of them).
  const latest = [...results.values()].flat().reduce<RunResult | undefined>((a, r) => (!a || r.finishedAt > a.finishedAt ? r : a), undefined);
  const label = o.backendLabel.replace(/-software$/, '') as BackendInfo['backend'];
  const environment = latest?.environment ?? o.environment ?? describeEnvironment({ backend: label, software: label !== o.backendLabel });
  const report = writeReport({
    outDir: o.outDir,
    suite: o.suite,
    preset: o.preset,
    backendLabel: o.backendLabel,
    environment,
    results,
    finishedAt: latest?.finishedAt,
  });
  if (!relative(o.resultsRoot, o.outDir).startsWith('..')) writeResultsIndex(o.resultsRoot);
  const pending = o.pending ?? [];
  const done: SuiteRunReport = {
    outDir: o.outDir,
    readme: report.readme,
    backend: o.backendLabel,
    environment,
    benchmarks: report.benchmarks,
    summary: report.summary,
    ran: o.ran,
    skipped: o.skipped,
    failed: o.failed,
    pending,
  };
  if (!o.quiet) process.stdout.write(formatSummary(done, o.json ?? false));
  return done;
}

/** What a suite run prints at its end: the Markdown tables with failed and pending runs, or the summary as JSON. */
export function formatSummary(report: SuiteRunReport, json: boolean): string {
  const { outDir, ran, skipped, failed, pending } = report;
  if (json) return `${JSON.stringify({ ...report.summary, outDir, ran, skipped, failed, pending }, null, 2)}\n`;
  const parts = report.benchmarks.map((b) => `## ${b.name} (${b.task})\n\n${b.table}\n\ncharts:\n${b.charts.map((c) => `  ${c}`).join('\n')}`);
  if (failed.length) parts.push(`failed runs:\n${failed.map((f) => `  ${f.id}: ${f.error}`).join('\n')}`);
  if (pending.length) parts.push(`runs without a result yet (${pending.length}):\n${pending.map((id) => `  ${id}`).join('\n')}`);
  parts.push(`report: ${report.readme}`);
  return `\n${parts.join('\n\n')}\n`;
}
