import { TASK_METRICS } from '../suite/recipes.js';
import type { Benchmark } from '../suite/types.js';
import type { RunResult } from '../tasks/types.js';
import { formatCount } from '@shiftmix/core';
import { METRIC_LABELS, formatMetric, markdownTable } from './format.js';

/** The model name as a table shows it, marked when its numbers come from a software adapter. */
export function modelCell(r: RunResult): string {
  return r.environment.software ? `${r.model} (software adapter)` : r.model;
}

function byModelOrder(benchmark: Benchmark) {
  const order = Object.keys(benchmark.models);
  return (a: RunResult, b: RunResult) => order.indexOf(a.model) - order.indexOf(b.model);
}

/** MQAR: per (T, pairs), accuracy per model and d_model (best over learning rates), params beside each. */
function mqarTables(benchmark: Benchmark, results: RunResult[]): string {
  const out: string[] = [];
  const settings = [...new Set(results.map((r) => `${r.setting.seqLen}/${r.setting.pairs}`))];
  const dims = [...new Set(results.map((r) => r.setting.dim))].sort((a, b) => a - b);
  for (const key of settings) {
    const [seqLen, pairs] = key.split('/').map(Number);
    const here = results.filter((r) => r.setting.seqLen === seqLen && r.setting.pairs === pairs);
    const models = [...new Set(here.sort(byModelOrder(benchmark)).map((r) => r.model))];
    const rows = models.map((model) => {
      const cells = dims.map((dim) => {
        const runs = here.filter((r) => r.model === model && r.setting.dim === dim);
        if (!runs.length) return '-';
        const best = runs.reduce((a, b) => ((b.metrics.accuracy ?? -1) > (a.metrics.accuracy ?? -1) ? b : a));
        const lr = runs.length > 1 ? `, lr ${best.setting.lr}` : '';
        return `${formatMetric('accuracy', best.metrics.accuracy)} (${formatCount(best.paramCount)} params${lr})`;
      });
      const first = here.find((r) => r.model === model)!;
      return [modelCell(first), first.layers, ...cells];
    });
    out.push(
      `T = ${seqLen}, ${pairs} key-value pairs: accuracy on queried positions\n\n${markdownTable(['model', 'layers', ...dims.map((d) => `d_model ${d}`)], rows)}`,
    );
  }
  return out.join('\n\n');
}

/** Scaling: one row per mixer and sequence length. */
function scalingTable(benchmark: Benchmark, results: RunResult[], metrics: string[]): string {
  const cols = metrics.filter((m) => m !== 'maxSeqLen');
  const rows: string[][] = [];
  for (const r of [...results].sort(byModelOrder(benchmark))) {
    for (const row of r.rows ?? []) {
      rows.push([modelCell(r), r.layers, formatCount(r.paramCount), String(row.seqLen), ...cols.map((m) => formatMetric(m, row[m]))]);
    }
    for (const note of r.notes ?? []) rows.push([modelCell(r), r.layers, formatCount(r.paramCount), '-', ...cols.map((_, i) => (i === 0 ? note : ''))]);
  }
  return markdownTable(['mixer', 'layer', 'params', 'T', ...cols.map((m) => METRIC_LABELS[m] ?? m)], rows);
}

/** The Markdown table(s) of one benchmark's results. */
export function benchmarkTable(benchmark: Benchmark, results: RunResult[]): string {
  if (!results.length) return '_No finished runs._';
  const metrics = benchmark.metrics ?? [...TASK_METRICS[benchmark.task]];
  if (benchmark.task === 'mqar') return mqarTables(benchmark, results);
  if (benchmark.task === 'scaling') return scalingTable(benchmark, results, metrics);
  const rows = [...results]
    .sort(byModelOrder(benchmark))
    .map((r) => [modelCell(r), r.layers, formatCount(r.paramCount), ...metrics.map((m) => formatMetric(m, r.metrics[m]))]);
  return markdownTable(['model', 'layers', 'params', ...metrics.map((m) => METRIC_LABELS[m] ?? m)], rows);
}
