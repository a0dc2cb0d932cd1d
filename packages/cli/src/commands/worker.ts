import { startWorker } from '@shiftmix/bench';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { onInterrupt, QUEUE_FLAG } from './bench-queue.js';
import { BACKEND_FLAG, WORKERS_FLAG } from './shared.js';

export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'Take the runs of queued benchmark suites (shiftmix bench --queue) and run them',
  usage: 'worker --queue URL [--backend B] [--concurrency N] [--plugin MODULE] [flags]',
  details: [
    'A worker takes the runs queued for its backend, runs each in a child process through the same',
    'code as a local `shiftmix bench`, reports its progress into the job and stores its result there.',
    'Start one on every machine, at any time: workers added while a sweep runs take their share.',
    'A run whose mixer the worker cannot resolve fails with that reason; load it with --plugin.',
    'Ctrl-C (or SIGTERM) lets the running runs finish first; a second Ctrl-C stops at once. A worker',
    'that stops that way or dies (killed, machine lost) holds its runs for --lock-seconds, then other',
    'workers take them over.',
  ].join('\n'),
  flags: {
    queue: { ...QUEUE_FLAG.queue, required: true },
    concurrency: { type: 'number', integer: true, min: 1, default: 1, placeholder: 'N', description: 'Runs at once on this machine, each in its own process' },
    lockSeconds: {
      type: 'number',
      min: 1,
      default: 30,
      placeholder: 'S',
      description: 'Seconds before a run held by a worker that stopped answering goes to another worker',
    },
    ...BACKEND_FLAG,
    ...WORKERS_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix worker --queue redis://:PASSWORD@queue-host:6379 --backend webgpu',
    'shiftmix worker --queue redis://queue-host:6379 --backend wasm --concurrency 4 --plugin ./my-mixer.js',
  ],
  async run(flags, { io }) {
    const loaded = await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
    // The runs execute in child processes, which load the same plugin files.
    const plugins = loaded.flatMap((p) => (p.via !== 'builtin' && p.file ? [p.file] : []));
    const worker = await startWorker({
      queue: flags.queue,
      backend: flags.backend,
      concurrency: flags.concurrency,
      workers: flags.workers,
      plugins,
      cwd: io.cwd,
      lockSeconds: flags.lockSeconds,
      log: (line) => io.stdout(`${line}\n`),
    });
    io.stdout(`mixers: ${worker.mixers.join(', ')}\n`);
    await new Promise<void>((resolve) => {
      const release = onInterrupt(() => {
        io.stderr('shiftmix: finishing the running runs, then stopping (Ctrl-C again to stop now: the runs go back to the queue after --lock-seconds)\n');
        void worker.close().then(() => {
          release();
          resolve();
        });
      });
    });
    return 0;
  },
});
