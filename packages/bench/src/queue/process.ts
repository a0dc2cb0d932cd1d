import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isShiftmixError, parseLayerPattern, selectBackend, ShiftmixError, type BackendName } from '@shiftmix/core';
import type { SandboxedJob } from 'bullmq';
import { describeEnvironment, type Environment } from '../environment.js';
import { executeRun } from '../execute.js';
import { loadMixerPlugins, registerShippedMixers } from '@shiftmix/core/plugins';
import { cachedDataFile } from './connect.js';
import { JOB_FORMAT, type BenchJobData, type BenchJobProgress, type BenchJobResult } from './jobs.js';

/**
 * The job processor a worker runs in a child process (BullMQ's sandbox): training blocks
 * its thread for whole runs, while the worker's own process keeps renewing the job's lock.
 * The worker hands its settings down in this environment variable; they hold nothing of
 * the queue's address: the worker fetches a job's data file before the job reaches this
 * process, which never talks to Redis and so never holds its password.
 */
export const WORKER_CONFIG_ENV = 'SHIFTMIX_WORKER_CONFIG';

export interface WorkerProcessConfig {
  /** The backend the worker resolved ("auto" already decided). */
  backend: Exclude<BackendName, 'auto'>;
  backendLabel: string;
  workers: number;
  plugins: string[];
  cwd: string;
  /** The folder the worker fetches data files into. */
  dataDir: string;
}

interface Setup {
  config: WorkerProcessConfig;
  environment: Environment;
}

let setup: Promise<Setup> | undefined;

async function init(): Promise<Setup> {
  const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? 'null') as WorkerProcessConfig | null;
  if (!config) throw new Error(`${WORKER_CONFIG_ENV} is not set: this module runs inside a shiftmix worker`);
  if (config.plugins.length) await loadMixerPlugins(config.plugins, config.cwd);
  const info = await selectBackend(config.backend);
  const label = `${info.backend}${info.software ? '-software' : ''}`;
  if (label !== config.backendLabel) {
    throw new ShiftmixError(
      `the worker's job process got backend ${label}, not ${config.backendLabel} as the worker did`,
      'Restart the worker',
      'E_QUEUE_BACKEND',
    );
  }
  return { config, environment: describeEnvironment(info, config.cwd, config.workers) };
}

/** Refuses a job this worker cannot run as asked, with the reason on the job. */
async function check(data: BenchJobData, label: string): Promise<void> {
  if (data?.format !== JOB_FORMAT) {
    throw new ShiftmixError(
      `the job has format ${String(data?.format)}, which this worker does not know`,
      'Run the same shiftmix version on the workers as on the submitting machine',
      'E_QUEUE_JOB',
    );
  }
  if (data.run.config.backend !== label) {
    throw new ShiftmixError(
      `the run is for backend ${data.run.config.backend}, and this worker runs ${label}`,
      `Start a worker with --backend ${data.run.config.backend}`,
      'E_QUEUE_BACKEND',
    );
  }
  const names = parseLayerPattern(data.run.definition.layers, { checkRegistry: false });
  await registerShippedMixers(names);
  try {
    parseLayerPattern(data.run.definition.layers);
  } catch (error) {
    if (!isShiftmixError(error) || error.code !== 'E_UNKNOWN_MIXER') throw error;
    throw new ShiftmixError(
      `worker ${hostname()} cannot resolve the layers "${data.run.definition.layers}": ${error.problem}`,
      'Start the worker with --plugin MODULE for the mixer (or install the plugin there), then submit the suite again to retry the run',
      'E_UNKNOWN_MIXER',
    );
  }
}

/** Runs one job's run through the same code path as a local suite and returns its result file. */
export default async function processJob(job: SandboxedJob<BenchJobData, BenchJobResult>): Promise<BenchJobResult> {
  const { config, environment } = await (setup ??= init());
  await check(job.data, config.backendLabel);
  const { run, suite, preset } = job.data;
  let { benchmark } = job.data;
  let baseDir = config.cwd;
  if (job.data.data) {
    const file = cachedDataFile(job.data.data, config.dataDir);
    if (!existsSync(file)) {
      throw new ShiftmixError(
        `the data file ${job.data.data.name} of this run is not in the worker's cache (${file})`,
        'Submit the suite again; keep the cache folder while workers run',
        'E_QUEUE_DATA',
      );
    }
    // The run's config keeps the suite's own data path; only where the text is read changes.
    benchmark = { ...benchmark, data: file };
    baseDir = dirname(file);
  }
  const parent = process.ppid;
  const where = `${hostname()}#${parent}`;
  let sent = 0;
  const report = (progress: BenchJobProgress) => void job.updateProgress({ ...progress }).catch(() => {});
  report({ where });
  return executeRun(run, {
    suite,
    preset,
    benchmark,
    baseDir,
    environment,
    workers: config.workers,
    onTick: (tick, runEta) => {
      // A worker killed outright leaves this process behind; its run can no longer be reported.
      if (process.ppid !== parent) process.exit(1);
      const now = Date.now();
      if (now - sent < 1000 && tick.step < tick.steps) return;
      sent = now;
      report({ where, tick, runEta });
    },
  });
}
