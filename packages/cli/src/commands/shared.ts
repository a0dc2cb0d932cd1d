import { BACKEND_NAMES, createProgressBar, type BackendInfo, type ProgressEvent, type TrainSummary } from '@shiftmix/core';
import type { FlagSpecs } from '../flags.js';
import type { Io } from '../command.js';

export const BACKEND_FLAG = {
  backend: {
    type: 'choice',
    choices: BACKEND_NAMES,
    default: 'auto',
    description: 'Compute backend ("auto": webgpu on a GPU when @shiftmix/webgpu is installed, else wasm)',
  },
} as const satisfies FlagSpecs;

export const WORKERS_FLAG = {
  workers: {
    type: 'number',
    integer: true,
    min: 1,
    default: 1,
    description: 'wasm and cpu: threads that share each training step (the batch split between them; 2 on a 2-core machine)',
  },
} as const satisfies FlagSpecs;

/**
 * Runs a training call with a progress bar on stderr. Ctrl-C stops it after the current
 * step (the trainer then saves last/, so `shiftmix resume` continues); a second Ctrl-C
 * exits at once.
 */
export async function withProgress<T>(io: Io, run: (onProgress: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<T>): Promise<T> {
  const bar = createProgressBar({
    stream: { write: (text: string) => io.stderr(text), isTTY: io.stderrIsTTY, columns: io.stderrColumns },
    plainEverySeconds: 10,
  });
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr('\nshiftmix: stopping after this step and saving last/ (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await run((event) => bar.update(event), controller.signal);
  } finally {
    bar.done();
    process.off('SIGINT', onSigint);
  }
}

/** JSON has no NaN: a loss that was never measured is null. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** The summary of a train or resume run: a few readable lines, or one JSON line with --json. */
export function printSummary(io: Io, summary: TrainSummary, json: boolean, backend: BackendInfo): void {
  const record = {
    params: summary.params,
    steps: summary.steps,
    trainLoss: finite(summary.trainLoss),
    valLoss: finite(summary.valLoss),
    bestValLoss: finite(summary.bestValLoss),
    tokensPerSecond: finite(summary.tokensPerSecond),
    seconds: summary.seconds,
    backend: summary.backend,
    stopped: summary.stopped,
    pipelined: summary.pipelined,
    workers: summary.workers,
    kernels: backend.kernels ?? null,
    outDir: summary.outDir ?? null,
  };
  if (json) {
    io.stdout(`${JSON.stringify(record)}\n`);
    return;
  }
  const loss = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
  const detail = [backend.adapter, backend.kernels, summary.workers > 1 ? `${summary.workers} workers` : undefined].filter(Boolean).join(', ');
  const device = detail ? `${summary.backend} (${detail})` : summary.backend;
  io.stdout(
    [
      `${summary.stopped ? 'stopped at' : 'trained'} step ${summary.steps} on ${device}${summary.pipelined ? ', steps pipelined' : ''} in ${summary.seconds.toFixed(1)}s`,
      `params ${formatCount(summary.params)} | train loss ${loss(record.trainLoss)} | val loss ${loss(record.valLoss)} | best val ${loss(record.bestValLoss)} | ${formatCount(summary.tokensPerSecond)} tok/s`,
      summary.outDir ? `checkpoints in ${summary.outDir}/last and ${summary.outDir}/best` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}
