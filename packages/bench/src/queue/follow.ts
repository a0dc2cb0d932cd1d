import type { Job, Queue } from 'bullmq';
import { SuiteEta } from '../eta.js';
import { asRunOf } from '../execute.js';
import type { PlannedRun } from '../plan.js';
import type { BenchEvent } from '../progress.js';
import { writeRun } from '../store.js';
import type { RunResult } from '../tasks/types.js';
import { isJobProgress, jobIdOf, type BenchJobData, type BenchJobResult } from './jobs.js';

export interface FollowOptions {
  queue: Queue<BenchJobData, BenchJobResult>;
  suiteName: string;
  preset: string;
  outDir: string;
  /** Every selected run, for the [i/N] numbering. */
  selected: PlannedRun[];
  /** The runs whose results are to be collected. */
  runs: PlannedRun[];
  /** Finished runs by id; collected results are added. */
  finished: Map<string, RunResult>;
  emit: (event: BenchEvent) => void;
  /** Poll until every run has finished or failed; otherwise look once. */
  wait: boolean;
  pollMs: number;
  signal?: AbortSignal;
  /** Called after each look at the queue that got an answer. */
  onLook?: () => void;
  /** A run's job is not in the queue: return true when it was queued again (Redis lost it), false to report it missing. */
  onMissing?: (runs: PlannedRun[]) => Promise<boolean>;
}

export interface FollowOutcome {
  /** Runs whose results were collected now. */
  ran: string[];
  failed: { id: string; error: string }[];
  /** Runs still queued or running. */
  pending: string[];
  /** Runs with no job in the queue. */
  missing: string[];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `work`, or undefined as soon as `signal` aborts: a look at the queue waits while Redis is down. */
async function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return work;
  if (signal.aborted) return undefined;
  let stop: () => void = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    stop = () => resolve(undefined);
    signal.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

const isResult = (value: unknown, run: PlannedRun): value is RunResult =>
  typeof value === 'object' && value !== null && (value as RunResult).format === 1 && (value as RunResult).configHash === run.hash;

/**
 * Follows the jobs of `runs`: each finished job's result is written to `outDir` as soon as
 * it is seen (so stopping loses nothing), failed jobs are reported with their error, and
 * progress events say which runs run where.
 */
export async function followJobs(o: FollowOptions): Promise<FollowOutcome> {
  const byJob = new Map<string, PlannedRun[]>();
  for (const run of o.runs) byJob.set(jobIdOf(run.hash), [...(byJob.get(jobIdOf(run.hash)) ?? []), run]);
  const index = new Map(o.selected.map((p, i) => [p.id, i] as const));
  const total = o.selected.length;
  const eta = new SuiteEta(o.runs);
  const announced = new Set<string>();
  const outcome: FollowOutcome = { ran: [], failed: [], pending: [], missing: [] };
  const at = (run: PlannedRun) => ({ plan: run, index: index.get(run.id) ?? 0, total });

  const look = async (id: string, runs: PlannedRun[]): Promise<{ state: string; job?: Job<BenchJobData, BenchJobResult> }> => {
    const state = await o.queue.getJobState(id);
    // A finished job's fields are final; an active one is read for its progress.
    const job = state === 'completed' || state === 'failed' || state === 'active' ? await o.queue.getJob(id) : undefined;
    if (state === 'unknown' && o.onMissing && (await o.onMissing(runs))) return { state: 'waiting' };
    return { state, job };
  };

  for (;;) {
    const entries = [...byJob.entries()];
    const looks = await unlessAborted(Promise.all(entries.map(([id, runs]) => look(id, runs))), o.signal);
    if (!looks) break;
    o.onLook?.();
    const running: Extract<BenchEvent, { type: 'queue-progress' }>['running'] = [];
    let waiting = 0;
    for (const [i, { state, job }] of looks.entries()) {
      const [id, runs] = entries[i];
      if (state === 'unknown') {
        outcome.missing.push(...runs.map((r) => r.id));
        byJob.delete(id);
      } else if (state === 'completed' && job) {
        byJob.delete(id);
        for (const run of runs) {
          if (!isResult(job.returnvalue, run)) {
            outcome.failed.push({ id: run.id, error: `job ${id} finished without a result for this run` });
            continue;
          }
          const result = asRunOf(job.returnvalue, run, o.suiteName, o.preset);
          writeRun(o.outDir, result);
          o.finished.set(run.id, result);
          eta.finish(run, result.seconds);
          outcome.ran.push(run.id);
          o.emit({ type: 'run-end', ...at(run), result });
        }
      } else if (state === 'failed' && job) {
        byJob.delete(id);
        for (const run of runs) {
          const error = (job.failedReason || 'failed without a reason').split('\n')[0];
          outcome.failed.push({ id: run.id, error });
          eta.finish(run, job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0);
          o.emit({ type: 'run-fail', ...at(run), error });
        }
      } else if (state === 'active' && job) {
        const progress = isJobProgress(job.progress) ? job.progress : undefined;
        const where = progress?.where ?? job.processedBy ?? 'a worker';
        for (const run of runs) {
          const key = `${id} ${job.attemptsStarted} ${where}`;
          if (!announced.has(key)) o.emit({ type: 'run-start', ...at(run), where });
          announced.add(key);
          running.push({ ...at(run), where, tick: progress?.tick, runEta: progress?.runEta });
        }
      } else {
        waiting += runs.length;
      }
    }
    const fractions = running.map((r) => ({ plan: r.plan, fraction: r.tick && r.tick.steps > 0 ? r.tick.step / r.tick.steps : 0 }));
    const { fraction, eta: suiteEta } = eta.parallel(fractions);
    const done = total - o.runs.length + outcome.ran.length;
    o.emit({ type: 'queue-progress', done, failed: outcome.failed.length, waiting, total, running, suiteFraction: fraction, suiteEta });
    if (!o.wait || byJob.size === 0 || o.signal?.aborted) break;
    await pause(o.pollMs, o.signal);
    if (o.signal?.aborted) break;
  }
  outcome.pending = [...byJob.values()].flat().map((r) => r.id);
  return outcome;
}
