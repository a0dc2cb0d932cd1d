import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { PASSWORD_ENV, QUEUE_PREFIX, queueName } from '@shiftmix/bench';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { tempDir } from './test-helpers.js';
import { killAll, spawnCli, waitFor, type CliProcess } from './test-processes.js';
import { useRedis } from './test-redis.js';

const PASSWORD = 'w0rk@er:pw/9#x';

const server = useRedis(PASSWORD);

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The command name in parentheses may hold spaces; the parent pid is the second field after it.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const lmSuite = (steps: number) => ({
  name: 'wtest',
  seed: 3,
  benchmarks: [
    {
      name: 'lm',
      task: 'lm-char',
      data: 'text.txt',
      models: { a: { layers: 'hsm-ab' }, b: { layers: 'hsm-ab*2' } },
      presets: { quick: { dim: 8, heads: 2, contextLength: 8, batch: 2, steps, evalEvery: steps, evalBatches: 1, warmup: 1, dropout: 0 } },
    },
  ],
});

describe('shiftmix worker', () => {
  it(
    "keeps the password out of its job processes, fetches their data for them, and says in words why Redis or a job's lock failed",
    { timeout: 300_000 },
    async () => {
      // A text of its own, so that its data file is fetched anew rather than found in the cache.
      const text = `${randomUUID()} now is the winter of our discontent made glorious summer by this sun of york. `.repeat(12);
      const dir = tempDir({ 'text.txt': text, 'wtest.json': JSON.stringify(lmSuite(1500)) });
      const bare = `redis://127.0.0.1:${server().port}`;
      const submitter = spawnCli(['bench', '--suite', './wtest.json', '--backend', 'cpu', '--queue', server().url, '--out', 'out'], dir);
      // One worker has the password in its URL, the other in SHIFTMIX_REDIS_PASSWORD; a long
      // lock, so that the only way to lose one is to have it taken away.
      const args = ['worker', '--backend', 'cpu', '--lock-seconds', '600'];
      const inUrl = spawnCli([...args, '--queue', server().url], dir);
      process.env[PASSWORD_ENV] = PASSWORD;
      let inEnv: CliProcess;
      try {
        inEnv = spawnCli([...args, '--queue', bare], dir);
      } finally {
        delete process.env[PASSWORD_ENV];
      }
      const all = [submitter, inUrl, inEnv];
      const queue = new Queue(queueName('cpu'), { connection: { host: '127.0.0.1', port: server().port, password: PASSWORD }, prefix: QUEUE_PREFIX });
      queue.on('error', () => {});
      let killed = false;
      try {
        const active = await waitFor(
          'both runs running',
          async () => {
            const jobs = await queue.getJobs(['active']);
            return jobs.length === 2 && jobs;
          },
          all,
        );

        // Each worker runs its job in a child process whose environment and command line hold no password.
        for (const worker of [inUrl, inEnv]) {
          const children = await waitFor('the job process', () => childrenOf(worker.child.pid!).length > 0 && childrenOf(worker.child.pid!), all);
          for (const pid of children) {
            const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
            const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            expect(environ).toContain('SHIFTMIX_WORKER_CONFIG=');
            for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), `${PASSWORD_ENV}=`]) {
              expect(environ, `environment of ${pid}`).not.toContain(secret);
              expect(cmdline, `command line of ${pid}`).not.toContain(secret);
            }
          }
        }

        // A job whose lock is taken from it: finishing it fails with BullMQ's status -2, which the worker explains.
        const job = active[0];
        const del = spawnSync(
          'redis-cli',
          ['-p', String(server().port), '--no-auth-warning', '-a', PASSWORD, 'DEL', `${QUEUE_PREFIX}:${queueName('cpu')}:${job.id}:lock`],
          {
            encoding: 'utf8',
          },
        );
        expect(del.stdout.trim(), del.stderr).toBe('1');
        const lost = await waitFor('the lost lock reported', () => [inUrl, inEnv].find((w) => /error: Missing lock for job/.test(w.stdout())), [inUrl, inEnv]);
        expect(lost.stdout()).toMatch(
          new RegExp(
            `error: Missing lock for job ${job.id}\\. moveToFinished: the job's lock had run out \\(the worker did not renew it within --lock-seconds, or Redis restarted\\)`,
          ),
        );
        // The other run finished, on data its worker fetched for the job process.
        await waitFor('the other run finished', () => [inUrl, inEnv].some((w) => /finished lm--\w in/.test(w.stdout())), [inUrl, inEnv]);

        // Redis gone: the reason in words, once per worker.
        await server().kill();
        killed = true;
        for (const worker of [inUrl, inEnv]) {
          await waitFor('the outage reported', () => /Redis at .*; retrying/.test(worker.stdout()), [worker]);
          expect(worker.stdout()).toMatch(
            /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: connection refused: nothing listens on that host and port \(ECONNREFUSED\); retrying/,
          );
        }
        const printed = all.map((p) => p.stdout() + p.stderr()).join('\n');
        expect(printed).not.toMatch(/: -?\d+; retrying/);
        for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(printed).not.toContain(secret);
      } finally {
        killAll();
        if (killed) await server().restart();
        await queue.close();
      }
    },
  );
});
