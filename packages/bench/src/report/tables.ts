import { formatCount } from '@shiftmix/core/tooling';
import type { Benchmark } from '../suite/types.js';
import type { RunResult, Task } from '../tasks/types.js';
import { formatMetric, markdownTable, metricLabel, type MetricSpec } from './format.js';

/** The model name as a table shows it, marked when its numbers come from a software adapter. */
export function modelCell(r: RunResult): string {
  return r.environment.software ? `${r.model} (software adapter)` : r.model;
}

/** Orders runs as the benchmark lists its models. */
export function byModelOrder(benchmark: Benchmark): (a: RunResult, b: RunResult) => number {
  const order = Object.keys(benchmark.models);
  return (a, b) => order.indexOf(a.model) - order.indexOf(b.model);
}

/** The table of tasks that say nothing else: one row per run, a column per metric. */
function runTable(benchmark: Benchmark, results: RunResult[], metrics: MetricSpec[]): string {
  const rows = [...results]
    .sort(byModelOrder(benchmark))
    .map((r) => [modelCell(r), r.layers, formatCount(r.paramCount), ...metrics.map((m) => formatMetric(m, r.metrics[m.name]))]);
  return markdownTable(['model', 'layers', 'params', ...metrics.map(metricLabel)], rows);
}

/** The Markdown table(s) of one benchmark's results: the task's own, or one row per run. */
export function benchmarkTable(benchmark: Benchmark, task: Task, results: RunResult[]): string {
  if (!results.length) return '_No finished runs._';
  // The suite checked that the benchmark's metrics are the task's.
  const metrics = benchmark.metrics ? benchmark.metrics.map((name) => task.metrics.find((m) => m.name === name)!) : task.metrics;
  return task.table ? task.table(benchmark, results, metrics) : runTable(benchmark, results, metrics);
}
