import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { listMixers, selectBackend, ShiftmixError, type BackendName } from '@shiftmix/core';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadMixerPlugins, registerShippedMixers, SHIPPED_MIXERS } from '@shiftmix/core/plugins';
import { formatDuration } from '../progress.js';
import { formatMetric } from '../report/format.js';
import { findMetric } from '../tasks/registry.js';
import { parseQueueUrl, PASSWORD_ENV, redisOptions, type QueueAddress } from './address.js';
import { connectionReason, DATA_CACHE_DIR, describeQueueError, fetchData, openRedis, probeRedis } from './connect.js';
import { isJobProgress, QUEUE_PREFIX, queueName, type BenchJobData, type BenchJobResult } from './jobs.js';
import { WORKER_CONFIG_ENV, type WorkerProcessConfig } from './process.js';

export interface StartWorkerOptions {
  /** The queue's Redis: redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS. */
  queue: string;
  /** Default "auto": webgpu on a GPU, else wasm. The worker takes the runs queued for this backend. */
  backend?: BackendName;
  /** Runs at once, each in its own process. Default 1. */
  concurrency?: number;
  /** Threads that share each training step (wasm and cpu). Default 1. */
  workers?: number;
  /** Plugin modules for the mixers of the runs: file paths (relative to `cwd`) or package names. */
  plugins?: string[];
  cwd?: string;
  /**
   * Seconds a job stays with a worker that stopped answering (killed, machine gone) before
   * another worker takes it over. Default 30.
   */
  lockSeconds?: number;
  /** Where the worker reports what it does, one line at a time. Default: stdout. */
  log?: (line: string) => void;
  /** Seconds between progress lines of a running job. Default 10. */
  progressEverySeconds?: number;
}

export interface RunningWorker {
  /** host#pid, as progress lines name this worker. */
  where: string;
  backendLabel: string;
  queueName: string;
  /** The mixers this worker can run. */
  mixers: string[];
  /** Stops taking jobs; waits for running jobs to finish unless `force` (they then go back to the queue). */
  close(force?: boolean): Promise<void>;
}

// How long a worker whose Redis is away waits for BullMQ's close before dropping its connections.
const CLOSE_GRACE_MS = 2000;

// Every backend label a run can have, and so every queue a suite may have been submitted to.
const LABELS = ['webgpu', 'webgpu-software', 'wasm', 'cpu', 'tensorflow'];

/** Runs waiting in the queues of other backends: a worker idle next to them is likely on the wrong backend. */
async function waitingElsewhere(address: QueueAddress, own: string): Promise<[string, number][]> {
  const found: [string, number][] = [];
  for (const label of LABELS.filter((l) => l !== own)) {
    const queue = new Queue(queueName(label), { connection: redisOptions(address), prefix: QUEUE_PREFIX });
    queue.on('error', () => {});
    try {
      const { wait } = await queue.getJobCounts('wait');
      if (wait) found.push([label, wait]);
    } finally {
      await queue.close();
    }
  }
  return found;
}

/** The sandboxed job processor, built next to this package's entry point. */
function processorFile(): URL {
  const url = new URL('./job-process.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new ShiftmixError(
      `the worker's job processor ${fileURLToPath(url)} is missing`,
      'Build @shiftmix/bench (npm run build) or reinstall it',
      'E_QUEUE_WORKER',
    );
  }
  return url;
}

const clock = () => new Date().toISOString().slice(11, 19);

/**
 * A BullMQ worker that fetches a job's data file into the machine's cache before its child
 * process starts the run: the child then needs no connection to Redis, and so no password.
 */
function dataFetchingWorker(address: QueueAddress): { Class: typeof Worker<BenchJobData, BenchJobResult>; close(): void } {
  let redis: Redis | undefined;
  class DataFetchingWorker extends Worker<BenchJobData, BenchJobResult> {
    protected override async callProcessJob(job: Job<BenchJobData, BenchJobResult>, token: string, signal?: AbortSignal): Promise<BenchJobResult> {
      if (job.data?.data) await fetchData((redis ??= openRedis(address)), job.data.data, DATA_CACHE_DIR);
      return super.callProcessJob(job, token, signal);
    }
  }
  return { Class: DataFetchingWorker, close: () => redis?.disconnect() };
}

/** The environment of a job's child process: the worker's, without the Redis password. */
function childEnvironment(config: WorkerProcessConfig): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== PASSWORD_ENV));
  return { ...env, [WORKER_CONFIG_ENV]: JSON.stringify(config) };
}

/**
 * Starts a queue worker: it takes the runs queued for its backend, runs each in a child
 * process through the same code path as a local suite, reports progress into the job and
 * stores the run's result with it. Resolves once the worker is connected and waiting.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const address = parseQueueUrl(options.queue);
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const say = (line: string) => log(`${clock()} ${line}`);
  await probeRedis(address);
  const plugins = options.plugins ?? [];
  if (plugins.length) await loadMixerPlugins(plugins, cwd);
  const file = processorFile();
  const info = await selectBackend(options.backend ?? 'auto');
  const backendLabel = `${info.backend}${info.software ? '-software' : ''}`;
  const where = `${hostname()}#${process.pid}`;
  // Nothing of the queue's address goes to the child processes: they never talk to Redis.
  const config: WorkerProcessConfig = { backend: info.backend, backendLabel, workers: options.workers ?? 1, plugins, cwd, dataDir: DATA_CACHE_DIR };
  const lockMs = Math.round((options.lockSeconds ?? 30) * 1000);
  const fetching = dataFetchingWorker(address);
  // Reconnects until the worker stops; then BullMQ's connections (and the copies it makes of
  // them) give up, so a worker whose Redis is away can still exit.
  let stopping = false;
  const retryStrategy = (times: number): number | null => (stopping ? null : Math.min(1000 * times, 20_000));
  const worker = new fetching.Class(queueName(backendLabel), file, {
    connection: { ...redisOptions(address), retryStrategy },
    prefix: QUEUE_PREFIX,
    name: where,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // Preemptible machines may lose the same run more than once before it finishes.
    maxStalledCount: 5,
    workerForkOptions: { env: childEnvironment(config) },
  });

  // BullMQ repeats a connection error while Redis is away; one line per outage is enough.
  let outage: string | undefined;
  let lastError: string | undefined;
  const back = () => {
    if (outage !== undefined) say(`Redis at ${address.display} is back`);
    outage = undefined;
  };
  const lastProgress = new Map<string, number>();
  // Runs this worker holds: with none, or with Redis away (a run could not report anyway), a
  // graceful stop has nothing to wait for, and waiting for Redis would never end.
  const running = new Set<string>();
  worker.on('active', (job) => {
    running.add(job.id!);
    back();
    say(`took ${job.name} (job ${job.id})${job.attemptsStarted > 1 ? `, start ${job.attemptsStarted}` : ''}`);
  });
  worker.on('progress', (job, progress) => {
    back();
    if (!isJobProgress(progress) || !progress.tick) return;
    const now = Date.now();
    if (now - (lastProgress.get(job.id!) ?? 0) < (options.progressEverySeconds ?? 10) * 1000) return;
    lastProgress.set(job.id!, now);
    const t = progress.tick;
    say(
      `${job.name} step ${t.step}/${t.steps}${t.loss !== undefined ? ` loss ${t.loss.toFixed(3)}` : ''}${progress.runEta !== undefined ? ` ETA ${formatDuration(progress.runEta)}` : ''}`,
    );
  });
  worker.on('completed', (job, result) => {
    running.delete(job.id!);
    back();
    lastProgress.delete(job.id!);
    const [metric] = Object.entries(result?.metrics ?? {});
    say(
      `finished ${job.name} in ${formatDuration(result?.seconds ?? NaN)}${metric ? `: ${metric[0]} ${formatMetric(findMetric(result.task, metric[0]), metric[1])}` : ''}`,
    );
  });
  worker.on('failed', (job, error) => {
    if (job) lastProgress.delete(job.id!);
    if (job) running.delete(job.id!);
    say(`failed ${job?.name ?? 'a job'}: ${error.message.split('\n')[0]}`);
  });
  worker.on('stalled', (id) => say(`job ${id} was left by a worker that stopped answering: back in the queue`));
  worker.on('error', (error) => {
    // Errors with a system code (ECONNREFUSED, ...) are the connection's; others (a lost
    // lock, which BullMQ reports with a negative status code) concern one job.
    const connection = connectionReason(error);
    if (!connection) {
      const message = describeQueueError(error);
      if (message !== lastError) say(`error: ${message}`);
      lastError = message;
    } else if (outage !== connection) {
      outage = connection;
      say(`Redis at ${address.display}: ${connection}; retrying`);
    }
  });
  await worker.waitUntilReady();
  await registerShippedMixers(Object.keys(SHIPPED_MIXERS));
  const mixers = listMixers().map((m) => m.spec.name);
  say(
    `worker ${where} on ${backendLabel}${info.adapter ? ` (${info.adapter})` : ''}: taking runs of queue ${queueName(backendLabel)} at ${address.display}, ${options.concurrency ?? 1} at a time`,
  );
  for (const [label, waiting] of await waitingElsewhere(address, backendLabel)) {
    say(
      `${waiting} run(s) wait in queue ${queueName(label)}, which this worker does not take: it runs ${backendLabel} (start workers with --backend ${label.replace(/-software$/, '')} for them)`,
    );
  }
  return {
    where,
    backendLabel,
    queueName: queueName(backendLabel),
    mixers,
    close: async (force = false) => {
      const nothingToWaitFor = running.size === 0 || outage !== undefined;
      if (nothingToWaitFor) stopping = true;
      // BullMQ's close waits for Redis even when forced: with Redis away, drop the connections
      // first (no reconnect attempt is left to fail unheard), then close what remains.
      if (outage !== undefined) await worker.disconnect().catch(() => undefined);
      const closing = worker.close(force || nothingToWaitFor).catch(() => undefined);
      await (outage !== undefined ? Promise.race([closing, new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]) : closing);
      fetching.close();
    },
  };
}
