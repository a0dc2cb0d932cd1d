import { formatTick } from '../svg/scale.js';

/** Column headings of the metrics. */
export const METRIC_LABELS: Record<string, string> = {
  bestValLoss: 'best val loss',
  finalValLoss: 'final val loss',
  tokensPerSecond: 'tokens/s',
  msPerStep: 'ms/step',
  seconds: 'wall s',
  accuracy: 'accuracy',
  finalLoss: 'test loss',
  maxSeqLen: 'max T',
  forwardMs: 'fwd ms',
  forwardBackwardMs: 'fwd+bwd ms',
  forwardPeakBytes: 'fwd peak',
  forwardBackwardPeakBytes: 'fwd+bwd peak',
  msPerToken: 'ms/token',
  firstMsPerToken: 'ms/token (first)',
  lastMsPerToken: 'ms/token (last)',
  stateBytes: 'state',
};

/** A metric's value as a table cell; missing or non-finite values are "-". */
export function formatMetric(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  if (name.endsWith('Bytes')) return formatTick(value, 'bytes');
  if (name === 'tokensPerSecond') return Math.round(value).toLocaleString('en-US');
  if (name.endsWith('Loss')) return value.toFixed(4);
  if (name === 'accuracy') return value.toFixed(3);
  if (name.endsWith('Ms') || name === 'msPerStep' || name.endsWith('PerToken')) return value < 10 ? value.toFixed(3) : value.toFixed(1);
  if (name === 'seconds') return value.toFixed(1);
  return String(value);
}

/** A Markdown table; cells are escaped so a "|" in a name cannot break it. */
export function markdownTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}
