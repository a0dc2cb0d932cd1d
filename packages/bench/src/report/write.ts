import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Environment } from '../environment.js';
import { formatJson, writeFileAtomic } from '../store.js';
import type { Suite } from '../suite/types.js';
import { findMetric, getTask, hasTask, listTasks } from '../tasks/registry.js';
import type { RunResult } from '../tasks/types.js';
import { benchmarkCharts, modelColours } from './charts.js';
import { formatMetric } from './format.js';
import { benchmarkTable } from './tables.js';

export interface BenchmarkReport {
  name: string;
  task: string;
  description?: string;
  /** Markdown table(s). */
  table: string;
  /** Chart files, absolute paths. */
  charts: string[];
  /** The runs behind the table, in the suite's model order. */
  runs: RunResult[];
}

export interface SuiteSummary {
  format: 1;
  suite: string;
  preset: string;
  /** Backend label: the backend name, with "-software" for a software adapter. */
  backend: string;
  finishedAt: string;
  environment: Environment;
  benchmarks: {
    name: string;
    task: string;
    runs: { id: string; model: string; layers: string; setting: Record<string, number>; paramCount: number; metrics: Record<string, number> }[];
  }[];
}

const SUMMARY = 'summary.json';
/** A hand-written account of a result folder, included in its README by writeReport. */
export const FINDINGS = 'FINDINGS.md';

/** Writes README.md (tables, charts, environment), summary.json and charts/*.svg into `outDir`. */
export function writeReport(options: {
  outDir: string;
  suite: Suite;
  preset: string;
  backendLabel: string;
  environment: Environment;
  results: Map<string, RunResult[]>;
  /** When the last reported run finished; default now. */
  finishedAt?: string;
}): { readme: string; benchmarks: BenchmarkReport[]; summary: SuiteSummary } {
  const { outDir, suite, preset, backendLabel, environment } = options;
  const chartsDir = join(outDir, 'charts');
  mkdirSync(chartsDir, { recursive: true });
  const reports: BenchmarkReport[] = [];
  const colours = modelColours(suite);
  for (const benchmark of suite.benchmarks) {
    const runs = options.results.get(benchmark.name);
    if (!runs?.length) continue;
    const task = getTask(benchmark.task);
    const charts = benchmarkCharts(benchmark, task, runs, `${backendLabel}, ${preset}`, colours).map((c) => {
      const path = join(chartsDir, c.file);
      writeFileAtomic(path, c.svg);
      return path;
    });
    reports.push({
      name: benchmark.name,
      task: benchmark.task,
      description: benchmark.description,
      table: benchmarkTable(benchmark, task, runs),
      charts,
      runs,
    });
  }
  const env = environment;
  const lines = [
    `# ${suite.name} suite, ${preset} preset, ${backendLabel}`,
    '',
    ...(suite.description ? [suite.description, ''] : []),
    `Backend ${env.backend}${env.adapter ? ` (${env.adapter})` : ''}${env.software ? ', a software adapter: its timings say nothing about GPU speed' : ''}; ` +
      `${env.cpu} (${env.cores} cores), Node ${env.node}, tfjs ${env.tfjs}, ${env.os}${env.gitCommit ? `, commit ${env.gitCommit}` : ''}` +
      `${env.kernels ? `; kernels: ${env.kernels}` : ''}${(env.workers ?? 1) > 1 ? `; ${env.workers} workers per step` : ''}. ` +
      `Seed ${suite.seed}: every model of a benchmark trains on the same data in the same order for the same number of tokens.`,
  ];
  // What the numbers show is written by people, in FINDINGS.md beside the report; the
  // runner never writes it, so it survives every rerun, and it leads the report.
  const findings = join(outDir, FINDINGS);
  if (existsSync(findings)) lines.push('', '## What these results show', '', readFileSync(findings, 'utf8').trim());
  for (const r of reports) {
    lines.push('', `## ${r.name} (${r.task})`, '');
    if (r.description) lines.push(r.description, '');
    lines.push(r.table, '');
    for (const c of r.charts) lines.push(`![${r.name}](${relative(outDir, c).split('\\').join('/')})`);
  }
  lines.push('', 'One JSON file per run in `runs/`: config, parameter count, metrics, curves and environment.', '');
  writeFileAtomic(join(outDir, 'README.md'), lines.join('\n'));
  const summary: SuiteSummary = {
    format: 1,
    suite: suite.name,
    preset,
    backend: backendLabel,
    finishedAt: options.finishedAt ?? new Date().toISOString(),
    environment,
    benchmarks: reports.map((r) => ({
      name: r.name,
      task: r.task,
      runs: r.runs.map((run) => ({ id: run.id, model: run.model, layers: run.layers, setting: run.setting, paramCount: run.paramCount, metrics: run.metrics })),
    })),
  };
  writeFileAtomic(join(outDir, SUMMARY), formatJson(summary));
  return { readme: join(outDir, 'README.md'), benchmarks: reports, summary };
}

/** The headline of a suite result: per model, the headline metric of its first benchmark whose task has one. */
function headlineOf(summary: SuiteSummary): string {
  const task = (b: SuiteSummary['benchmarks'][number]) => (hasTask(b.task) ? getTask(b.task) : undefined);
  const benchmark = summary.benchmarks.find((b) => task(b)?.headline);
  if (!benchmark) return '';
  const { metric } = task(benchmark)!.headline!;
  return benchmark.runs.map((r) => `${r.model} ${formatMetric(findMetric(benchmark.task, metric), r.metrics[metric])}`).join(', ');
}

/**
 * Rewrites `root`/README.md: every suite result under root/BACKEND/SUITE-PRESET, newest
 * first per backend, the latest of each backend marked, with its headline numbers.
 */
export function writeResultsIndex(root: string): string {
  const found: { dir: string; summary: SuiteSummary }[] = [];
  for (const backend of existsSync(root) ? readdirSync(root, { withFileTypes: true }) : []) {
    if (!backend.isDirectory()) continue;
    for (const run of readdirSync(join(root, backend.name), { withFileTypes: true })) {
      const file = join(root, backend.name, run.name, SUMMARY);
      if (!run.isDirectory() || !existsSync(file)) continue;
      try {
        found.push({ dir: join(backend.name, run.name), summary: JSON.parse(readFileSync(file, 'utf8')) as SuiteSummary });
      } catch {
        // A summary being written by another run: it is listed next time.
      }
    }
  }
  found.sort((a, b) => a.summary.backend.localeCompare(b.summary.backend) || b.summary.finishedAt.localeCompare(a.summary.finishedAt));
  const lines = [
    '# Benchmark results',
    '',
    'Written by the benchmark runner (`node apps/bench/dist/main.js --suite NAME --preset PRESET --backend BACKEND`, or `shiftmix bench`). The newest result of each backend comes first and is marked latest.',
    '',
  ];
  lines.push('| backend | suite | preset | finished | commit | headline | |', '| --- | --- | --- | --- | --- | --- | --- |');
  const seen = new Set<string>();
  for (const { dir, summary } of found) {
    const latest = !seen.has(summary.backend);
    seen.add(summary.backend);
    const headline = headlineOf(summary);
    const link = `[${latest ? '**latest**' : 'report'}](${dir.split('\\').join('/')}/README.md)`;
    lines.push(
      `| ${summary.backend} | ${summary.suite} | ${summary.preset} | ${summary.finishedAt.slice(0, 16).replace('T', ' ')} | ${summary.environment.gitCommit?.slice(0, 8) ?? '-'} | ${headline} | ${link} |`,
    );
  }
  const says = listTasks().flatMap((t) => (t.headline ? [`${t.headline.says} of ${t.name}`] : []));
  lines.push('', ...(says.length ? [`The headline is ${says.join(', or ')} per model.`, ''] : []));
  const path = join(root, 'README.md');
  mkdirSync(root, { recursive: true });
  writeFileAtomic(path, lines.join('\n'));
  return path;
}
