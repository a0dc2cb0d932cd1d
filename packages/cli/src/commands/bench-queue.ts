import { consoleProgress, formatSummary, MAX_RUNS, parseQueueUrl, runSuiteOnQueue, type QueueSuiteOptions } from '@shiftmix/bench';
import type { BackendName } from '@shiftmix/core';
import type { Io } from '../command.js';
import type { FlagSpecs } from '../flags.js';

export const QUEUE_FLAG = {
  queue: {
    type: 'string',
    placeholder: 'URL',
    description: 'Redis of a BullMQ queue: redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS); the password may instead be in SHIFTMIX_REDIS_PASSWORD',
  },
} as const satisfies FlagSpecs;

export const QUEUE_FLAGS = {
  ...QUEUE_FLAG,
  collect: { type: 'boolean', description: 'With --queue: queue nothing, write the results of the runs that have finished, and exit' },
} as const satisfies FlagSpecs;

/**
 * Ctrl-C runs `first` once; a second Ctrl-C exits at once. Returns the function that
 * removes the handler.
 */
export function onInterrupt(first: () => void): () => void {
  let seen = false;
  const handler = (): void => {
    if (seen) process.exit(130);
    seen = true;
    first();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

type QueueRun = Omit<QueueSuiteOptions, 'backend' | 'onProgress' | 'signal' | 'plugins' | 'log' | 'json' | 'quiet'> & { backend: BackendName };

/** The command that writes a queued suite's results later; the password shows as ***. */
function collectCommand(o: QueueRun): string {
  const parts = [
    'shiftmix bench',
    `--suite ${typeof o.suite === 'string' ? o.suite : o.suite.name}`,
    `--preset ${o.preset}`,
    `--backend ${o.backend}`,
    `--queue ${parseQueueUrl(o.queue).display}`,
  ];
  if (o.only?.length) parts.push(`--only ${o.only.join(',')}`);
  if (o.models?.length) parts.push(`--models ${o.models.join(',')}`);
  if (o.outDir) parts.push(`--out ${o.outDir}`);
  if (o.maxRuns !== undefined && o.maxRuns !== MAX_RUNS) parts.push(`--max-runs ${o.maxRuns}`);
  return `${parts.join(' ')} --collect`;
}

/** `shiftmix bench --queue`: submits and follows a suite, or collects it; Ctrl-C stops following only. */
export async function runOnQueue(o: QueueRun, json: boolean, io: Io): Promise<number> {
  const controller = new AbortController();
  const release = onInterrupt(() => {
    io.stderr('\nshiftmix: no longer following; the queued runs go on (Ctrl-C again to quit now)\n');
    controller.abort();
  });
  try {
    const report = await runSuiteOnQueue({
      ...o,
      backend: o.backend as QueueSuiteOptions['backend'],
      onProgress: consoleProgress(),
      signal: controller.signal,
      log: (line) => io.stderr(`shiftmix: ${line}\n`),
      quiet: true,
    });
    io.stdout(formatSummary(report, json));
    if (report.pending.length) {
      io.stderr(`shiftmix: ${report.pending.length} run(s) have no result yet; once they finish, this writes their results:\n  ${collectCommand(o)}\n`);
    }
    if (controller.signal.aborted) return 130;
    return report.failed.length ? 1 : 0;
  } finally {
    release();
  }
}
