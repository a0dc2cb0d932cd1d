import { BACKEND_NAMES, createProgressBar, isDivergedError, type BackendInfo, type ProgressEvent, type TrainSummary } from '@shiftmix/core';
import { formatCount } from '@shiftmix/core/tooling';
import { InputError } from '../errors.js';
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

export const CHECKPOINT_FLAG = {
  checkpoint: { type: 'string', required: true, placeholder: 'DIR', description: 'Run directory or checkpoint folder' },
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

export const EAGER_STEP_FLAG = {
  eagerStep: {
    type: 'boolean',
    description: 'Take the eager training step, tfjs op by op, instead of replaying the step recorded once (the same results, slower)',
  },
} as const satisfies FlagSpecs;

/** What train and resume pass to the trainer about planned steps: the flag, and notes printed to stderr. */
export function stepOptions(io: Pick<Io, 'stderr'>, flags: { eagerStep?: boolean }): { plan: boolean; onNote: (message: string) => void } {
  return { plan: !flags.eagerStep, onNote: (message) => io.stderr(`shiftmix: note: ${message}\n`) };
}

/** The signals that stop a training run, and the exit codes of a run they stopped (128 + the signal's number). */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

// While a training call runs, a stop signal stops it gracefully (withProgress); before, it ends the command.
let trainingCalls = 0;

/**
 * Until a training call starts, Ctrl-C or SIGTERM exits at once with 130 or 143; exiting
 * runs the `exit` listeners, which release the run directory's lock. Returns the undo.
 */
export function exitOnStopSignals(): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (trainingCalls === 0) process.exit(STOP_SIGNALS[signal as StopSignal]);
  };
  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, handler);
  return () => {
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, handler);
  };
}

/** Exit code of a run a signal stopped: 130 after Ctrl-C (SIGINT), 143 after SIGTERM. */
export function stoppedExitCode(signal: StopSignal | undefined): number {
  return STOP_SIGNALS[signal ?? 'SIGINT'];
}

/** How to go on after training diverged, as a command: the core's error speaks to library users. */
export interface RetryHint {
  /** The --out flag as the user gave it. */
  out: string;
  command: 'train' | 'resume';
  /** resume's --steps, which the checkpoint's recipe does not hold yet. */
  steps?: number;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A DivergedError with the command that resumes (or retrains) at the suggested learning rate as its fix. */
export function divergenceForCli(error: unknown, hint: RetryHint): unknown {
  if (!isDivergedError(error)) return error;
  const lr = error.suggestedLr;
  const fix = error.checkpoint
    ? `Resume from it with a lower learning rate: shiftmix resume --out ${shellWord(hint.out)}${hint.steps === undefined ? '' : ` --steps ${hint.steps}`} --lr ${lr}`
    : `Run the same shiftmix ${hint.command} command again with a lower learning rate, --lr ${lr}`;
  return new InputError(error.problem, fix);
}

export interface Progressed<T> {
  value: T;
  /** The signal that stopped the run early, if one did. */
  stoppedBy?: StopSignal;
}

/**
 * Runs a training call with a progress bar on stderr. Ctrl-C or SIGTERM stops it after
 * the current step (the trainer then saves last/, so `shiftmix resume` continues); the
 * same signal again exits at once. A divergence is reported with the command that goes on.
 */
export async function withProgress<T>(
  io: Io,
  hint: RetryHint,
  run: (onProgress: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<T>,
): Promise<Progressed<T>> {
  const bar = createProgressBar({
    stream: { write: (text: string) => io.stderr(text), isTTY: io.stderrIsTTY, columns: io.stderrColumns },
    plainEverySeconds: 10,
  });
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const name = signal as StopSignal;
    if (controller.signal.aborted) process.exit(STOP_SIGNALS[name]);
    stoppedBy = name;
    const again = name === 'SIGINT' ? 'Ctrl-C again' : 'SIGTERM again';
    io.stderr(`\nshiftmix: ${name}: stopping after this step and saving last/ (${again} to quit now)\n`);
    controller.abort();
  };
  trainingCalls++;
  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, onSignal);
  try {
    const value = await run((event) => bar.update(event), controller.signal);
    return { value, stoppedBy };
  } catch (error) {
    throw divergenceForCli(error, hint);
  } finally {
    bar.done();
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, onSignal);
    trainingCalls--;
  }
}

/** JSON has no NaN: a loss that was never measured is null. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** "wasm (native, openblas, 2 workers)": the backend and what runs on it. */
function describeBackend(backend: BackendInfo, workers: number): string {
  const detail = [backend.adapter, backend.kernels, workers > 1 ? `${workers} workers` : undefined].filter(Boolean).join(', ');
  return detail ? `${backend.backend} (${detail})` : backend.backend;
}

/**
 * The first line of a train or resume run, on stderr before the first step (as nanoGPT
 * prints its parameter count): what trains, where, and how much per step.
 */
export function printRunStart(
  io: Io,
  run: { layers: string; params: number; backend: BackendInfo; workers: number; batch: number; ctx: number; steps: number; fromStep?: number },
): void {
  const tokens = (run.batch * run.ctx).toLocaleString('en-US');
  if (run.backend.note) io.stderr(`shiftmix: auto chose ${run.backend.backend}: ${run.backend.note}\n`);
  const what = run.fromStep === undefined ? 'training' : `resuming at step ${run.fromStep}:`;
  io.stderr(
    `shiftmix: ${what} "${run.layers}" (${formatCount(run.params)} parameters) on ${describeBackend(run.backend, run.workers)}, ` +
      `${run.batch} x ${run.ctx} = ${tokens} tokens per step, ${run.steps} steps\n`,
  );
}

/** The summary of a train or resume run: a few readable lines, or one JSON line with --json. */
export function printSummary(io: Io, summary: TrainSummary, json: boolean, backend: BackendInfo): void {
  const record = {
    params: summary.params,
    steps: summary.steps,
    trainLoss: finite(summary.trainLoss),
    valLoss: finite(summary.valLoss),
    bestValLoss: finite(summary.bestValLoss),
    // Bits per byte compare across tokenizers; null where the data's bytes per token are unknown.
    trainBpb: finite(summary.trainBpb ?? Number.NaN),
    valBpb: finite(summary.valBpb ?? Number.NaN),
    bestValBpb: finite(summary.bestValBpb ?? Number.NaN),
    tokensPerSecond: finite(summary.tokensPerSecond),
    seconds: summary.seconds,
    backend: summary.backend,
    stopped: summary.stopped,
    pipelined: summary.pipelined,
    workers: summary.workers,
    stepKind: summary.stepKind,
    kernels: backend.kernels ?? null,
    outDir: summary.outDir ?? null,
  };
  if (json) {
    io.stdout(`${JSON.stringify(record)}\n`);
    return;
  }
  const loss = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
  const bpb = (v: number | null): string => (v === null ? '' : ` (${v.toFixed(3)} bpb)`);
  const device = describeBackend({ ...backend, backend: summary.backend as BackendInfo['backend'] }, summary.workers);
  io.stdout(
    [
      `${summary.stopped ? 'stopped at' : 'trained'} step ${summary.steps} on ${device}, ${summary.stepKind} steps${summary.pipelined ? ', pipelined' : ''} in ${summary.seconds.toFixed(1)}s`,
      `params ${formatCount(summary.params)} | train loss ${loss(record.trainLoss)} | val loss ${loss(record.valLoss)}${bpb(record.valBpb)} | best val ${loss(record.bestValLoss)}${bpb(record.bestValBpb)} | ${formatCount(summary.tokensPerSecond)} tok/s`,
      summary.outDir ? `checkpoints in ${summary.outDir}/last and ${summary.outDir}/best` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}
