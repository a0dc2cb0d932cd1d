import type { Benchmark, Suite } from '../suite/types.js';
import { lineChart, type ChartSeries } from '../svg/chart.js';
import type { RunResult } from '../tasks/types.js';

export interface Chart {
  /** File name inside the charts folder. */
  file: string;
  title: string;
  svg: string;
}

const modelOrder = (benchmark: Benchmark) => {
  const order = Object.keys(benchmark.models);
  return (a: RunResult, b: RunResult) => order.indexOf(a.model) - order.indexOf(b.model);
};

/**
 * One colour index per model name across a suite, in the order the names first appear:
 * a model keeps its colour in every chart of a report, whichever models a chart shows.
 */
export function modelColours(suite: Pick<Suite, 'benchmarks'>): Map<string, number> {
  const colours = new Map<string, number>();
  for (const benchmark of suite.benchmarks) for (const model of Object.keys(benchmark.models)) if (!colours.has(model)) colours.set(model, colours.size);
  return colours;
}

/**
 * The charts of one benchmark; `where` (e.g. "wasm") goes into every title. `colours`
 * (see `modelColours`) gives each model its colour; by default, the benchmark's own order.
 */
export function benchmarkCharts(benchmark: Benchmark, all: RunResult[], where: string, colours = modelColours({ benchmarks: [benchmark] })): Chart[] {
  const results = [...all].sort(modelOrder(benchmark));
  // A model the colours do not know (a result of a model since removed) comes after them.
  const colour = (model: string) => colours.get(model) ?? colours.size + Object.keys(benchmark.models).indexOf(model) + 1;
  const seriesOf = (key: string): ChartSeries[] => results.map((r) => ({ name: r.model, points: r.series[key] ?? [], colour: colour(r.model) }));
  const b = benchmark.name;
  const charts: Chart[] = [];
  const add = (file: string, title: string, options: Omit<Parameters<typeof lineChart>[0], 'title'>) =>
    charts.push({ file, title, svg: lineChart({ title: `${title} (${where})`, ...options }) });
  if (!results.length) return charts;
  switch (benchmark.task) {
    case 'lm-char':
      add(`${b}-val-loss-vs-step.svg`, `${b}: validation loss vs step`, {
        xLabel: 'step',
        yLabel: 'validation loss (nats/char)',
        series: seriesOf('valLossByStep'),
      });
      add(`${b}-val-loss-vs-time.svg`, `${b}: validation loss vs wall time`, {
        xLabel: 'wall time (s)',
        yLabel: 'validation loss (nats/char)',
        series: seriesOf('valLossBySeconds'),
      });
      break;
    case 'mqar': {
      const settings = [...new Set(results.map((r) => `${r.setting.seqLen}/${r.setting.pairs}`))];
      const models = [...new Set(results.map((r) => r.model))];
      for (const key of settings) {
        const [seqLen, pairs] = key.split('/').map(Number);
        const series = models.map((model) => {
          const runs = results.filter((r) => r.model === model && r.setting.seqLen === seqLen && r.setting.pairs === pairs);
          const dims = [...new Set(runs.map((r) => r.setting.dim))].sort((x, y) => x - y);
          // Best accuracy over learning rates at each width, as the table reports it.
          const points = dims.map((d): [number, number] => [d, Math.max(...runs.filter((r) => r.setting.dim === d).map((r) => r.metrics.accuracy ?? 0))]);
          return { name: model, points, colour: colour(model) };
        });
        add(`${b}-accuracy-T${seqLen}-P${pairs}.svg`, `${b}: accuracy vs d_model, T ${seqLen}, ${pairs} pairs`, {
          xLabel: 'd_model',
          yLabel: 'accuracy',
          xScale: 'log',
          series,
        });
      }
      break;
    }
    case 'scaling': {
      const both = (a: string, bKey: string): ChartSeries[] =>
        results.flatMap((r) => [
          { name: `${r.model} fwd`, points: r.series[a] ?? [], colour: colour(r.model), dashed: true },
          { name: `${r.model} fwd+bwd`, points: r.series[bKey] ?? [], colour: colour(r.model) },
        ]);
      add(`${b}-time.svg`, `${b}: time per mixer layer vs T`, {
        xLabel: 'sequence length T',
        yLabel: 'time (ms)',
        xScale: 'log',
        yScale: 'log',
        series: both('forwardMs', 'forwardBackwardMs'),
      });
      add(`${b}-memory.svg`, `${b}: peak memory per mixer layer vs T`, {
        xLabel: 'sequence length T',
        yLabel: 'peak memory',
        xScale: 'log',
        yScale: 'log',
        yUnit: 'bytes',
        series: both('forwardPeakBytes', 'forwardBackwardPeakBytes'),
      });
      break;
    }
    case 'decode':
      add(`${b}-latency.svg`, `${b}: per-token latency vs position`, {
        xLabel: 'position',
        yLabel: 'ms per token (median per bucket)',
        series: seriesOf('msPerTokenByPosition'),
      });
      add(`${b}-state.svg`, `${b}: decoding state memory vs position`, {
        xLabel: 'position',
        yLabel: 'state size',
        yUnit: 'bytes',
        series: seriesOf('stateBytesByPosition'),
      });
      break;
  }
  return charts;
}
