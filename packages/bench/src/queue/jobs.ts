import type { PlannedRun } from '../plan.js';
import type { Benchmark, Suite } from '../suite/types.js';
import { getTask } from '../tasks/registry.js';
import type { RunResult, RunTick } from '../tasks/types.js';

/** Prefix of every key the queue keeps in Redis. */
export const QUEUE_PREFIX = 'shiftmix';
/** Version of the job payload; a worker refuses formats it does not know. */
export const JOB_FORMAT = 1;

/**
 * The queue of the runs on one backend. A run's backend is part of its config hash, so
 * each backend has its own queue and a worker takes only the runs of the backend it has.
 */
export function queueName(backendLabel: string): string {
  return `bench-${backendLabel}`;
}

/**
 * A run's job id: its config hash, so the same run submitted twice (or by two people) is one
 * job. BullMQ rejects ids that read as integers; the rare all-digit hash gets an "h" in front.
 */
export function jobIdOf(hash: string): string {
  return `${Number.parseInt(hash, 10)}` === hash ? `h${hash}` : hash;
}

/** A text file a run reads (a benchmark's data), stored once in Redis under its content hash. */
export interface DataRef {
  /** Redis key of the file's bytes. */
  key: string;
  sha256: string;
  /** The file's name, for messages and the worker's cached copy. */
  name: string;
  bytes: number;
}

/** What a job carries: everything a worker needs to run the run, without the suite file. */
export interface BenchJobData {
  format: typeof JOB_FORMAT;
  run: PlannedRun;
  suite: { name: string; seed: number };
  preset: string;
  benchmark: Benchmark;
  data?: DataRef;
}

/**
 * The file a queued run of `benchmark` carries to the workers: the data file its suite names,
 * for a task that reads one. A task's own default file ships with the package on every worker.
 */
export function jobDataFile(benchmark: Benchmark, baseDir: string): string | undefined {
  return benchmark.data ? getTask(benchmark.task).dataFile?.(benchmark, baseDir) : undefined;
}

/** The payload of a queued run; `data` is its data file once stored in Redis. */
export function benchJob(run: PlannedRun, suite: Pick<Suite, 'name' | 'seed'>, preset: string, benchmark: Benchmark, data?: DataRef): BenchJobData {
  return { format: JOB_FORMAT, run, suite: { name: suite.name, seed: suite.seed }, preset, benchmark, ...(data ? { data } : {}) };
}

/** A job's progress: where it runs and the task's last tick. */
export interface BenchJobProgress {
  /** The worker: host#pid. */
  where: string;
  tick?: RunTick;
  /** Seconds left in the run, once they can be estimated. */
  runEta?: number;
}

/** A finished job's return value: the run's result file, as a local run writes it. */
export type BenchJobResult = RunResult;

export const isJobProgress = (value: unknown): value is BenchJobProgress =>
  typeof value === 'object' && value !== null && typeof (value as BenchJobProgress).where === 'string';
