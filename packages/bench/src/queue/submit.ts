import { hasMixer, parseLayerPattern, ShiftmixError, type BackendName } from '@shiftmix/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { finishSuite, type SuiteRunReport } from '../finish.js';
import type { PlannedRun } from '../plan.js';
import { loadMixerPlugins, registerShippedMixers } from '@shiftmix/core/plugins';
import { checkDataFiles, prepareSuite, openSuite, type PreparedSuite, type SuiteTarget } from '../prepare.js';
import { consoleProgress, type BenchEvent } from '../progress.js';
import { readFinishedRuns } from '../store.js';
import { parseQueueUrl, redisOptions } from './address.js';
import { describeQueueError, openRedis, probeRedis, uploadData } from './connect.js';
import { followJobs } from './follow.js';
import { QUEUE_PREFIX, benchJob, jobDataFile, jobIdOf, queueName, type BenchJobData, type BenchJobResult, type DataRef } from './jobs.js';

export interface QueueSuiteOptions extends SuiteTarget {
  /** The queue's Redis: redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS. */
  queue: string;
  /** The backend the runs use (part of each run's config hash); workers take only the runs of their own backend. */
  backend: Exclude<BackendName, 'auto'>;
  /** Plugin modules to import here too, so that their mixers' patterns are checked before queueing. */
  plugins?: string[];
  /** Queue nothing and wait for nothing: write the results of the runs that have finished. */
  collect?: boolean;
  /** Run again the runs that finished already (here or in the queue). */
  force?: boolean;
  onProgress?: (event: BenchEvent) => void;
  json?: boolean;
  quiet?: boolean;
  /** Stops following: the queued runs go on, and a later call (or `collect`) writes their results. */
  signal?: AbortSignal;
  /** Where notes go (mixers only the workers know, runs not in the queue). Default: stderr, none when quiet. */
  log?: (line: string) => void;
  /** Milliseconds between looks at the queue. Default 1000. */
  pollMs?: number;
}

/** Mixers the runs name that this process cannot resolve: the workers must load them. */
async function unknownMixers(runs: PlannedRun[]): Promise<string[]> {
  const names = runs.flatMap((p) => parseLayerPattern(p.definition.layers, { checkRegistry: false }));
  await registerShippedMixers(names);
  return [...new Set(names)].filter((name) => !hasMixer(name));
}

/** Queues the runs that have no job yet; a failed job is retried, a finished one is redone only with `force`. */
async function enqueue(queue: Queue<BenchJobData, BenchJobResult>, redis: Redis, prepared: PreparedSuite, runs: PlannedRun[], force: boolean): Promise<number> {
  const data = new Map<string, DataRef | undefined>();
  let queued = 0;
  for (const run of runs) {
    const id = jobIdOf(run.hash);
    const state = await queue.getJobState(id);
    if (state === 'failed' || (force && state === 'completed')) {
      const job = await queue.getJob(id);
      // Another submitter may have moved it on already; then there is nothing to do.
      await job?.retry(state).catch(() => {});
      queued++;
      continue;
    }
    if (state !== 'unknown') continue;
    const benchmark = prepared.suite.benchmarks.find((b) => b.name === run.benchmark)!;
    if (!data.has(benchmark.name)) {
      const file = jobDataFile(benchmark, prepared.baseDir);
      data.set(benchmark.name, file === undefined ? undefined : await uploadData(redis, file));
    }
    const payload = benchJob(run, prepared.suite, prepared.preset, benchmark, data.get(benchmark.name));
    // A job id that exists already makes add() do nothing: two submitters queue a run once.
    await queue.add(run.id, payload, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
    queued++;
  }
  return queued;
}

/**
 * Runs a suite on a BullMQ queue: queues every selected run that has no result yet as a
 * job whose id is its config hash, follows the workers' progress, and writes the same
 * results as `runSuite` (run files, tables, charts, the results index) as runs finish.
 */
export async function runSuiteOnQueue(options: QueueSuiteOptions): Promise<SuiteRunReport> {
  const address = parseQueueUrl(options.queue);
  if ((options.backend as BackendName) === 'auto') {
    throw new ShiftmixError(
      'a queued suite needs the backend its runs use, not "auto"',
      'Pass the backend of the workers, e.g. --backend webgpu for GPU machines or --backend wasm for CPUs',
      'E_QUEUE_BACKEND',
    );
  }
  const cwd = options.cwd ?? process.cwd();
  const opened = openSuite(options);
  const emit = options.onProgress ?? (options.quiet ? () => {} : consoleProgress());
  const say = options.log ?? ((line: string) => void (options.quiet || process.stderr.write(`${line}\n`)));
  if (options.plugins?.length) await loadMixerPlugins(options.plugins, cwd);
  const prepared = prepareSuite(options, options.backend, opened);
  const { suite, preset, selected, outDir } = prepared;
  for (const p of selected) parseLayerPattern(p.definition.layers, { checkRegistry: false });
  if (!options.collect) checkDataFiles(prepared, cwd);
  await probeRedis(address);
  for (const name of await unknownMixers(selected)) say(`mixer "${name}" is not registered here: the workers must load it (shiftmix worker --plugin MODULE)`);

  const queue = new Queue<BenchJobData, BenchJobResult>(queueName(options.backend), { connection: redisOptions(address), prefix: QUEUE_PREFIX });
  // BullMQ repeats a connection error while Redis is away; one line per outage is enough.
  let outage: string | undefined;
  queue.on('error', (error: Error) => {
    const reason = describeQueueError(error);
    if (reason !== outage) say(`Redis at ${address.display}: ${reason}; waiting for it`);
    outage = reason;
  });
  const redis = openRedis(address);
  try {
    const finished = readFinishedRuns(outDir);
    const isDone = (p: PlannedRun) => !options.force && finished.get(p.id)?.configHash === p.hash;
    const runs = selected.filter((p) => !isDone(p));
    const skipped = selected.filter(isDone).map((p) => p.id);
    emit({ type: 'suite-start', suite: suite.name, preset, backend: options.backend, outDir, total: selected.length, toRun: runs.length });
    for (const [index, plan] of selected.entries()) if (isDone(plan)) emit({ type: 'run-skip', plan, index, total: selected.length });
    if (!options.collect) {
      const queued = await enqueue(queue, redis, prepared, runs, options.force ?? false);
      say(`queued ${queued} run(s) on ${address.display} (queue ${queueName(options.backend)}); ${runs.length - queued} were queued already`);
    }
    const started = performance.now();
    const followed = await followJobs({
      queue,
      suiteName: suite.name,
      preset,
      outDir,
      selected,
      runs,
      finished,
      emit,
      wait: !options.collect,
      pollMs: options.pollMs ?? 1000,
      signal: options.signal,
      onLook: () => {
        if (outage !== undefined) say(`Redis at ${address.display} is back`);
        outage = undefined;
      },
      // Jobs that Redis lost (a restart without persistence) are queued again.
      onMissing: options.collect
        ? undefined
        : async (lost) => {
            const queued = await enqueue(queue, redis, prepared, lost, false);
            if (queued) say(`queued ${lost.map((r) => r.id).join(', ')} again: Redis had lost the job`);
            return queued > 0;
          },
    });
    if (followed.missing.length) say(`${followed.missing.length} run(s) have no job in the queue: run the command without --collect to queue them`);
    const pending = [...followed.pending, ...followed.missing];
    const report = finishSuite({
      ...prepared,
      finished,
      ran: followed.ran,
      skipped,
      failed: followed.failed,
      pending,
      json: options.json,
      quiet: options.quiet,
    });
    if (!pending.length) emit({ type: 'suite-end', outDir, seconds: (performance.now() - started) / 1000, ran: followed.ran.length, skipped: skipped.length });
    return report;
  } finally {
    redis.disconnect();
    // Closing waits for Redis; after Ctrl-C it may be away, and nothing is left to send.
    await (options.signal?.aborted ? queue.disconnect() : queue.close());
  }
}
