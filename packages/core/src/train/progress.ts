import type { ProgressEvent } from './types.js';

/** Where the bar writes: process.stderr by default. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  stream?: ProgressStream;
  /** Forces one \r-updated line (true) or plain lines (false); default: the stream's isTTY. */
  tty?: boolean;
  /** Off a TTY, at most one plain line per this many seconds (evaluations always print). Default 30. */
  plainEverySeconds?: number;
  /** Clock in seconds, replaceable in tests. */
  clock?: () => number;
}

export interface ProgressBar {
  /** Pass as `onProgress`. */
  update(event: ProgressEvent): void;
  /** Ends the \r line. */
  done(): void;
}

/** 1234 -> "1.23k", 2_500_000 -> "2.50M". */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)}k`;
  return value.toFixed(0);
}

/** Parameter and token counts as tables and summaries show them: 850 -> "850", 405_123 -> "405.1k", 1_234_567 -> "1.23M". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** 75 -> "1m15s", 3725 -> "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One status line: step, bar, losses, throughput and time left. */
export function formatProgress(event: ProgressEvent, etaSeconds: number, barWidth = 20): string {
  const fraction = Math.min(1, event.step / event.steps);
  const filled = Math.round(fraction * barWidth);
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ` : '';
  const width = String(event.steps).length;
  const parts = [`step ${String(event.step).padStart(width)}/${event.steps} ${bar}loss ${event.trainLoss.toFixed(4)}`];
  // Bits per byte beside the validation loss, where the data knows its bytes per token.
  const bpb = (value: number | undefined) => (value === undefined ? '' : ` (${value.toFixed(3)} bpb)`);
  if (event.valLoss !== undefined) parts.push(`val ${event.valLoss.toFixed(4)}${bpb(event.valBpb)}`);
  else if (event.bestValLoss !== undefined) parts.push(`best val ${event.bestValLoss.toFixed(4)}${bpb(event.bestValBpb)}`);
  parts.push(`${formatRate(event.tokensPerSecond)} tok/s`, `ETA ${formatDuration(etaSeconds)}`);
  return parts.join(' | ');
}

/**
 * A terminal progress display for `train`'s onProgress: on a TTY one line rewritten in
 * place; otherwise (logs, CI) a plain line on every evaluation and at most every
 * `plainEverySeconds`. The ETA comes from the wall-clock rate since the first update,
 * so it includes evaluation and checkpoint time.
 */
export function createProgressBar(options: ProgressBarOptions = {}): ProgressBar {
  const stream: ProgressStream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const every = options.plainEverySeconds ?? 30;
  const clock = options.clock ?? (() => performance.now() / 1000);
  let first: { step: number; time: number } | undefined;
  let lastPlain = Number.NEGATIVE_INFINITY;
  let open = false;
  return {
    update(event) {
      const time = clock();
      // The first update only starts the clock: the time of its own step is unknown.
      if (!first) first = { step: event.step, time };
      const done = event.step - first.step;
      const rate = done > 0 && time > first.time ? done / (time - first.time) : Number.NaN;
      const eta = Number.isFinite(rate) ? (event.steps - event.step) / rate : Number.NaN;
      if (tty) {
        // Some terminals (and pseudo-terminals in CI) report 0 columns: unknown, not narrow.
        const columns = stream.columns && stream.columns > 0 ? stream.columns : 100;
        const line = formatProgress(event, eta, columns >= 100 ? 20 : 0).slice(0, Math.max(10, columns - 1));
        stream.write(`\r${line}\x1b[K`);
        open = true;
        if (event.valLoss !== undefined) {
          stream.write('\n');
          open = false;
        }
        return;
      }
      const last = event.step === event.steps;
      if (event.valLoss !== undefined || last || time - lastPlain >= every) {
        stream.write(`${formatProgress(event, eta, 0)}\n`);
        lastPlain = time;
      }
    },
    done() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}
