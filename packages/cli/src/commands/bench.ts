import { consoleProgress, formatSummary, MAX_RUNS, mergeResults, parseShard, runSuite, type SuiteRunReport } from '@shiftmix/bench';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { UsageError } from '../errors.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { requireOutputDir } from '../run-folder.js';
import { QUEUE_FLAGS, runOnQueue } from './bench-queue.js';
import { BACKEND_FLAG, WORKERS_FLAG } from './shared.js';

const commaList = (values: string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** Flags that cannot go together, as usage errors that say which way to go. */
function checkModes(flags: { queue?: string; collect: boolean; shard?: string; merge: string[]; force: boolean; workers: number }): void {
  if (flags.collect && !flags.queue)
    throw new UsageError('--collect reads results from a queue', 'Add --queue redis://HOST:PORT, the queue the suite was submitted to');
  if (flags.collect && flags.force)
    throw new UsageError('--collect queues nothing, so --force has nothing to redo', 'Drop --collect to queue the runs again with --force');
  if (flags.queue && flags.shard)
    throw new UsageError(
      '--shard splits a suite between machines without a queue',
      'With --queue, start a worker per machine instead (shiftmix worker --queue URL)',
    );
  if (flags.merge.length && (flags.queue || flags.shard))
    throw new UsageError('--merge only merges finished results', 'Run --merge on its own, after the shards or the queue are done');
  if (flags.queue && flags.workers !== 1)
    throw new UsageError('--workers sets the threads of each run on the machine that runs it', 'Pass --workers to shiftmix worker instead');
}

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'Run a benchmark suite (lm-char, lm-bpe, mqar, scaling, decode) and write tables and charts',
  usage: 'bench [--suite NAME|FILE] [--preset quick|standard] [--queue URL [--collect] | --shard K/N | --merge DIR...] [flags]',
  details: [
    'A suite is a JSON file naming its benchmarks, their models (layer patterns) and recipes per',
    'preset. NAME is looked up in benchmarks/suites of the current folder or one above it, then among',
    'the suites @shiftmix/bench ships ("default", with Tiny Shakespeare as its lm-char data).',
    'Each finished run is kept as JSON under --out: after an interruption the same command resumes.',
    'Progress goes to stderr; the Markdown tables (or --json) to stdout.',
    '',
    'With --queue the runs go to a BullMQ queue on Redis, one job per run (its id is the config',
    'hash), and `shiftmix worker` processes on any number of machines run them. The command follows',
    'them and writes the same results as a local run; Ctrl-C leaves the queue running, and --collect',
    'writes what has finished later. Without a queue, --shard K/N runs every N-th run on machine K',
    "and --merge DIR (repeatable) merges the shards' folders into one.",
  ].join('\n'),
  flags: {
    suite: { type: 'string', default: 'default', placeholder: 'NAME|FILE', description: 'Suite name or suite file' },
    preset: {
      type: 'string',
      default: 'quick',
      placeholder: 'NAME',
      description: 'Recipe preset of the default suite: smoke (seconds: does it run?), quick (CPU, minutes), standard (GPU)',
    },
    only: { type: 'list', placeholder: 'BENCH,...', description: 'Run only these benchmarks or tasks; repeatable' },
    models: { type: 'list', placeholder: 'NAME,...', description: 'Run only these models of the suite; repeatable' },
    out: {
      type: 'string',
      placeholder: 'DIR',
      description: 'Results folder (default: ./bench-results/BACKEND/SUITE-PRESET, or benchmarks/results/... in a shiftmix checkout)',
    },
    results: {
      type: 'string',
      placeholder: 'DIR',
      description: 'Root of the results folders, with an index of them: runs go to DIR/BACKEND/SUITE-PRESET unless --out is given',
    },
    force: { type: 'boolean', description: 'Redo runs that already finished' },
    maxRuns: {
      type: 'number',
      integer: true,
      min: 1,
      default: MAX_RUNS,
      placeholder: 'N',
      description: 'Refuse a suite that expands to more runs than this (its sweeps are counted before any run is built or queued)',
    },
    json: { type: 'boolean', description: 'Print the summary as JSON instead of the tables' },
    ...QUEUE_FLAGS,
    shard: { type: 'string', placeholder: 'K/N', description: 'Run only shard K of N: every N-th run of the suite, starting at the K-th' },
    merge: {
      type: 'list',
      placeholder: 'DIR',
      description: "Merge the run files of these results folders (e.g. the shards') into --out and write the report; runs nothing; repeatable",
    },
    ...BACKEND_FLAG,
    ...WORKERS_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix bench --preset quick',
    'shiftmix bench --only lm-char --models gpt,hsm-ab --backend webgpu --preset standard',
    'shiftmix bench --suite ./my-suite.json --plugin ./my-mixer.js',
    'shiftmix bench --preset standard --backend webgpu --queue redis://:PASSWORD@queue-host:6379',
    'shiftmix bench --preset standard --backend webgpu --queue redis://:PASSWORD@queue-host:6379 --collect',
    'shiftmix bench --preset smoke --shard 1/2 --out shard-1',
  ],
  async run(flags, { io }) {
    checkModes(flags);
    if (flags.out !== undefined) requireOutputDir(flags.out, io.cwd, '--out');
    if (flags.results !== undefined) requireOutputDir(flags.results, io.cwd, '--results');
    const target = {
      suite: flags.suite,
      preset: flags.preset,
      only: commaList(flags.only),
      models: commaList(flags.models),
      outDir: flags.out,
      resultsRoot: flags.results,
      maxRuns: flags.maxRuns,
      cwd: io.cwd,
    };
    let report: SuiteRunReport;
    if (flags.merge.length) {
      report = mergeResults({ ...target, from: flags.merge, quiet: true });
    } else if (flags.queue) {
      await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
      return runOnQueue({ ...target, queue: flags.queue, collect: flags.collect, backend: flags.backend, force: flags.force }, flags.json, io);
    } else {
      await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
      report = await runSuite({
        ...target,
        shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
        backend: flags.backend,
        quiet: true,
        force: flags.force,
        workers: flags.workers,
        onProgress: consoleProgress(),
      });
    }
    io.stdout(formatSummary(report, flags.json));
    return report.failed.length ? 1 : 0;
  },
});
