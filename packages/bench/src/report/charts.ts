import type { Benchmark, Suite } from '../suite/types.js';
import { lineChart, type ChartOptions, type ChartSeries } from '../svg/chart.js';
import type { RunResult, Task } from '../tasks/types.js';
import { byModelOrder } from './tables.js';

export interface Chart {
  /** File name inside the charts folder. */
  file: string;
  title: string;
  svg: string;
}

/** A chart a task draws: written to BENCHMARK-NAME.svg, titled "BENCHMARK: TITLE (backend, preset)". */
export interface ChartSpec extends Omit<ChartOptions, 'title'> {
  name: string;
  title: string;
}

/** What a task's `charts` gets besides the runs. */
export interface ChartHelpers {
  /** The colour of a model, the same in every chart of a report. */
  colour(model: string): number;
  /** One series per run: its model's curve `key` (a name in the run's `series`), in its model's colour. */
  seriesOf(key: string): ChartSeries[];
}

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
 * The charts of one benchmark, drawn as its task says; `where` (e.g. "wasm") goes into every
 * title. `colours` (see `modelColours`) gives each model its colour; by default, the benchmark's own order.
 */
export function benchmarkCharts(
  benchmark: Benchmark,
  task: Task,
  all: RunResult[],
  where: string,
  colours = modelColours({ benchmarks: [benchmark] }),
): Chart[] {
  const results = [...all].sort(byModelOrder(benchmark));
  if (!results.length || !task.charts) return [];
  // A model the colours do not know (a result of a model since removed) comes after them.
  const colour = (model: string) => colours.get(model) ?? colours.size + Object.keys(benchmark.models).indexOf(model) + 1;
  const seriesOf = (key: string): ChartSeries[] => results.map((r) => ({ name: r.model, points: r.series[key] ?? [], colour: colour(r.model) }));
  const b = benchmark.name;
  return task.charts(results, { colour, seriesOf }).map(({ name, title, ...options }) => ({
    file: `${b}-${name}.svg`,
    title: `${b}: ${title}`,
    svg: lineChart({ title: `${b}: ${title} (${where})`, ...options }),
  }));
}
