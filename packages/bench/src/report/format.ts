import { formatTick } from '../svg/scale.js';

/** How a metric's value is written in a table cell: one of the shared forms, or a function of the task's own. */
export type MetricFormat = 'bytes' | 'count' | 'loss' | 'accuracy' | 'ms' | 'seconds' | ((value: number) => string);

/** One metric a task reports: its name in a run's `metrics`, its column heading, how its values are written. */
export interface MetricSpec {
  name: string;
  /** The column heading; default: the name. */
  label?: string;
  /** Default: the number as JavaScript writes it. */
  format?: MetricFormat;
}

const FORMATS: Record<Exclude<MetricFormat, (value: number) => string>, (value: number) => string> = {
  bytes: (v) => formatTick(v, 'bytes'),
  count: (v) => Math.round(v).toLocaleString('en-US'),
  loss: (v) => v.toFixed(4),
  accuracy: (v) => v.toFixed(3),
  // Three decimals tell sub-10 ms timings apart; past that, one is enough.
  ms: (v) => (v < 10 ? v.toFixed(3) : v.toFixed(1)),
  seconds: (v) => v.toFixed(1),
};

/** A metric's column heading. */
export const metricLabel = (metric: MetricSpec): string => metric.label ?? metric.name;

/** A metric's value as a table cell; missing or non-finite values are "-", a metric nobody describes is written as is. */
export function formatMetric(metric: MetricSpec | undefined, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  const format = metric?.format;
  if (format === undefined) return String(value);
  return typeof format === 'function' ? format(value) : FORMATS[format](value);
}

/** A Markdown table; cells are escaped so a "|" in a name cannot break it. */
export function markdownTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}
