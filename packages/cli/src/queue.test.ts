import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { QUEUE_PREFIX, queueName, type BenchJobData, type BenchJobProgress, type BenchJobResult } from '@shiftmix/bench';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempDir } from './test-helpers.js';
import { filesUnder, runFiles, spawnCli, waitFor, type CliProcess } from './test-processes.js';
import { useRedis } from './test-redis.js';

// A password with characters a URL must escape: it works, and it shows up nowhere.
const PASSWORD = 'q@ueue:pw/7';

const LM_QUICK = { dim: 8, heads: 2, contextLength: 8, batch: 2, steps: 120, evalEvery: 40, evalBatches: 1, warmup: 1, dropout: 0 };

// Two benchmarks; in lm-char, "nan" fails on the worker (a plugin mixer that outputs NaN,
// which the mixer check refuses before training) and "ghost"
// names a mixer no worker has. hsm-ab*2 trains long enough to be caught in the middle.
const suite = {
  name: 'qtest',
  seed: 7,
  benchmarks: [
    {
      name: 'lm',
      task: 'lm-char',
      data: 'text.txt',
      models: { shift: { layers: 'hsm-ab*2' }, attn: { layers: 'softmax-attention' }, nan: { layers: 'qtest-nan' }, ghost: { layers: 'qtest-ghost' } },
      presets: { quick: LM_QUICK },
    },
    {
      name: 'recall',
      task: 'mqar',
      models: { shift: { layers: 'hsm-ab*2' }, attn: { layers: 'softmax-attention*2' } },
      presets: {
        quick: {
          vocabSize: 16,
          settings: [{ seqLen: 8, pairs: 1 }],
          dims: [8],
          heads: 1,
          trainExamples: 64,
          testExamples: 16,
          epochs: 2,
          batch: 16,
          lr: 3e-3,
          warmup: 1,
        },
      },
    },
  ],
};

const NAN_PLUGIN = `export const nanSpec = {
  specificationVersion: 1,
  name: 'qtest-nan',
  description: 'outputs NaN, so the run fails',
  shiftBased: false,
  defaults: {},
  validate: () => ({}),
  paramCount: () => 0,
  create: () => ({
    weights: {},
    forward: (u) => u.mul(Number.NaN),
    initState: () => ({ position: 0, tensors: {} }),
    step: (u, state) => ({ y: u.mul(Number.NaN), state }),
    dispose: () => {},
  }),
};
`;

const files = () => ({
  'text.txt': 'now is the winter of our discontent made glorious summer by this sun of york. '.repeat(12),
  'qtest.json': JSON.stringify(suite),
  'nan-mixer.mjs': NAN_PLUGIN,
});

/** What a run measured that does not depend on the machine's speed. */
function measured(run: Record<string, unknown>) {
  const timing = /seconds|persecond|ms/i;
  const keep = (o: unknown) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => !timing.test(k)));
  return { id: run.id, configHash: run.configHash, paramCount: run.paramCount, config: run.config, metrics: keep(run.metrics), series: keep(run.series) };
}

const server = useRedis(PASSWORD);

describe('shiftmix bench --queue', () => {
  it('names a refused password, a missing one and an unreachable server, never printing the password', async () => {
    const dir = tempDir(files());
    const bench = (url: string, backend = 'cpu') => runCli(['bench', '--suite', './qtest.json', '--backend', backend, '--queue', url, '--out', 'q'], dir);
    const wrong = expectOneLineError(
      await bench(`redis://:not-${encodeURIComponent(PASSWORD)}@127.0.0.1:${server().port}`),
      1,
      /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the user name or password/,
    );
    expect(wrong).not.toContain('not-');
    expectOneLineError(await bench(`redis://127.0.0.1:${server().port}`), 1, /needs a password\. Give it in the URL .* or in SHIFTMIX_REDIS_PASSWORD/);
    expectOneLineError(
      await bench(`redis://:x@127.0.0.1:1`),
      1,
      /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: connection refused: nothing listens on that host and port \(ECONNREFUSED\)/,
    );
    expectOneLineError(await bench(server().url, 'auto'), 1, /needs the backend its runs use, not "auto"\. Pass the backend of the workers/);
    expectOneLineError(await bench(`http://:${encodeURIComponent(PASSWORD)}@host:1`), 1, /queue URL "http:\/\/\*\*\*@host:1" has the scheme "http"/);
    // Unescaped, the password breaks the URL; the message shows none of it.
    const broken = expectOneLineError(
      await bench(`redis://:${PASSWORD}@host:1`),
      1,
      /queue URL "redis:\/\/\*\*\*@host:1" is not a URL\. Write redis:\/\/HOST:PORT/,
    );
    expect(broken).not.toMatch(/@ueue|pw\/7/);
    expectOneLineError(await runCli(['bench', '--collect'], dir), 2, /--collect reads results from a queue/);
    expectOneLineError(await runCli(['bench', '--queue', server().url, '--shard', '1/2'], dir), 2, /--shard splits a suite between machines without a queue/);
  });

  it(
    'spreads a suite over worker processes, survives a killed worker, a Redis crash and Ctrl-C, and collects what a local run gives',
    { timeout: 480_000 },
    async () => {
      const dir = tempDir(files());
      const local = spawnCli(['bench', '--suite', './qtest.json', '--backend', 'cpu', '--models', 'shift,attn', '--out', 'local', '--json'], dir);
      expect(await local.done, local.stderr()).toBe(0);
      const expected = runFiles(path.join(dir, 'local'));
      expect(Object.keys(expected).sort()).toEqual(['lm--attn', 'lm--shift', 'recall--attn--T8-P1-D8-lr0.003', 'recall--shift--T8-P1-D8-lr0.003']);
      const charts = readdirSync(path.join(dir, 'local', 'charts')).sort();
      expect(charts.length).toBeGreaterThan(2);

      const queue = new Queue<BenchJobData, BenchJobResult>(queueName('cpu'), {
        connection: { host: '127.0.0.1', port: server().port, password: PASSWORD },
        prefix: QUEUE_PREFIX,
      });
      queue.on('error', () => {});
      const submit = ['bench', '--suite', './qtest.json', '--backend', 'cpu', '--queue', server().url];
      const worker = ['worker', '--queue', server().url, '--backend', 'cpu', '--plugin', './nan-mixer.mjs', '--lock-seconds', '3'];
      // Two people submit the same suite: one into the default results folder, one elsewhere.
      const first = spawnCli(submit, dir);
      const second = spawnCli([...submit, '--out', 'followed'], dir);
      const workers: CliProcess[] = [spawnCli(worker, dir), spawnCli(worker, dir)];
      const logs = () => [first, second, ...workers].map((p) => `${p.stdout()}\n${p.stderr()}`).join('\n---\n');

      // Kill the worker that runs lm--shift while it is in the first half of its steps.
      const caught = await waitFor(
        'lm--shift in progress',
        async () => {
          const job = (await queue.getJobs(['active'])).find((j) => j.name === 'lm--shift');
          const progress = job?.progress as BenchJobProgress | undefined;
          return job && progress?.tick && progress.tick.step < progress.tick.steps / 2 ? { id: job.id!, where: progress.where } : undefined;
        },
        [first, second, ...workers],
      );
      const victim = workers.find((w) => caught.where.endsWith(`#${w.child.pid}`))!;
      victim.child.kill('SIGKILL');
      // A worker added while the sweep runs takes its share, two runs at a time.
      workers.push(spawnCli([...worker, '--concurrency', '2'], dir));

      // Ctrl-C on one submitter once it has written a result: the queue goes on.
      const defaultOut = path.join(dir, 'bench-results', 'cpu', 'qtest-quick');
      await waitFor('a collected result', () => Object.keys(runFiles(defaultOut)).length > 0, [first, second, ...workers.filter((w) => w !== victim)]);
      first.child.kill('SIGINT');
      expect(await first.done, first.stderr()).toBe(130);
      expect(first.stderr()).toMatch(
        /no longer following; the queued runs go on[\s\S]*shiftmix bench --suite \.\/qtest\.json --preset quick --backend cpu --queue redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ --collect/,
      );

      // Redis crashes in the middle of the sweep and comes back with what it had finished.
      const before = await queue.getJobCounts('completed', 'failed');
      expect(before.completed).toBeGreaterThan(0);
      expect(before.completed + before.failed).toBeLessThan(6);
      await server().kill();
      await server().restart();

      expect(await second.done, logs()).toBe(1);
      expect(second.stderr()).toMatch(/started on \S+#\d+/);
      expect(second.stderr()).toMatch(/queue: \d\/6 done/);
      expect(second.stderr()).toMatch(/\[3\/6\] lm--nan failed: mixer "qtest-nan" \(block 1\) fails the conformance kit's shapes check: .*non-finite values/);
      expect(second.stderr()).toMatch(/\[4\/6\] lm--ghost failed: worker \S+ cannot resolve the layers "qtest-ghost": .*Start the worker with --plugin MODULE/);

      // Later, --collect writes everything into the first submitter's folder.
      const collect = spawnCli([...submit, '--collect'], dir);
      expect(await collect.done, collect.stderr()).toBe(1);
      expect(collect.stderr()).not.toMatch(/no result yet/);

      for (const out of [defaultOut, path.join(dir, 'followed')]) {
        const got = runFiles(out);
        expect(Object.keys(got).sort(), out).toEqual(Object.keys(expected).sort());
        for (const [id, run] of Object.entries(got)) expect(measured(run), `${out} ${id}`).toEqual(measured(expected[id]));
        const readme = readFileSync(path.join(out, 'README.md'), 'utf8');
        expect(readme).toMatch(/## lm \(lm-char\)[\s\S]*\| shift \| hsm-ab\*2 \|[\s\S]*## recall \(mqar\)/);
        expect(readdirSync(path.join(out, 'charts')).sort()).toEqual(charts);
      }
      expect(readFileSync(path.join(dir, 'bench-results', 'README.md'), 'utf8')).toMatch(/\| cpu \| qtest \| quick \|/);

      // Nothing lost, nothing run twice: six jobs, each good run finished once, the killed run by another worker.
      expect(await queue.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({ completed: 4, failed: 2, active: 0, wait: 0 });
      const resumed = (await queue.getJob(caught.id))!;
      expect(resumed.stalledCounter).toBeGreaterThanOrEqual(1);
      expect(resumed.processedBy).not.toBe(caught.where);
      const finished = [...logs().matchAll(/finished (\S+) in/g)].map((m) => m[1]).sort();
      expect(finished).toEqual(Object.keys(expected).sort());
      expect([...logs().matchAll(/failed (lm--\w+):/g)].map((m) => m[1]).sort()).toEqual(['lm--ghost', 'lm--nan']);

      // A worker asked to stop finishes and exits cleanly.
      for (const w of workers.filter((w) => w !== victim)) w.child.kill('SIGTERM');
      for (const w of workers.filter((w) => w !== victim)) expect(await w.done, w.stderr()).toBe(0);
      await queue.close();

      const printed = [local, first, second, collect, ...workers].map((p) => p.stdout() + p.stderr()).join('\n');
      const written = filesUnder(dir)
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n');
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) {
        expect(printed).not.toContain(secret);
        expect(written).not.toContain(secret);
      }
    },
  );

  it(
    'queues again the jobs Redis lost, retries failed runs when the suite is submitted again, and redoes finished ones with --force',
    { timeout: 300_000 },
    async () => {
      const identity = NAN_PLUGIN.replace('nanSpec', 'identitySpec').replace("'qtest-nan'", "'qtest-identity'").replaceAll('u.mul(Number.NaN)', 'u.clone()');
      const models = { plain: { layers: 'hsm-ab' }, ident: { layers: 'qtest-identity' } };
      const small = {
        name: 'requeue',
        seed: 11,
        benchmarks: [{ ...suite.benchmarks[0], models, presets: { quick: { ...LM_QUICK, steps: 8, evalEvery: 4 } } }],
      };
      const dir = tempDir({ ...files(), 'requeue.json': JSON.stringify(small), 'identity.mjs': identity });
      const submit = ['bench', '--suite', './requeue.json', '--backend', 'cpu', '--queue', server().url, '--out', 'out'];
      const queue = new Queue(queueName('cpu'), { connection: { host: '127.0.0.1', port: server().port, password: PASSWORD }, prefix: QUEUE_PREFIX });
      queue.on('error', () => {});
      const waiting = async () => (await queue.getJobCounts('wait')).wait;

      const early = await runCli([...submit, '--collect'], dir);
      expect(early.code, early.stderr).toBe(0);
      expect(early.stderr).toMatch(/2 run\(s\) have no job in the queue: run the command without --collect to queue them/);
      expect(early.stderr).toMatch(
        /2 run\(s\) have no result yet; once they finish, this writes their results:\n {2}shiftmix bench --suite \.\/requeue\.json --preset quick --backend cpu --queue redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ --out out --collect/,
      );

      // Redis loses everything (no persistence) while the submitter waits for a worker: it queues the runs again.
      const submitter = spawnCli(submit, dir);
      await waitFor('the runs queued', async () => (await waiting()) === 2, [submitter]);
      server().flush();
      await waitFor('the runs queued again', async () => (await waiting()) === 2, [submitter]);
      // A worker of another backend leaves them, and says why.
      const elsewhere = spawnCli(['worker', '--queue', server().url, '--backend', 'wasm'], dir);
      await waitFor('the wasm worker started', () => /mixers: /.test(elsewhere.stdout()), [elsewhere]);
      expect(elsewhere.stdout()).toMatch(
        /2 run\(s\) wait in queue bench-cpu, which this worker does not take: it runs wasm \(start workers with --backend cpu for them\)/,
      );
      elsewhere.child.kill('SIGTERM');
      expect(await elsewhere.done, elsewhere.stderr()).toBe(0);
      expect(await waiting()).toBe(2);
      const without = spawnCli(['worker', '--queue', server().url, '--backend', 'cpu'], dir);
      expect(await submitter.done, submitter.stderr()).toBe(1);
      expect(submitter.stderr()).toMatch(/lm--ident failed: worker \S+ cannot resolve the layers "qtest-identity": unknown mixer "qtest-identity"/);
      expect(Object.keys(runFiles(path.join(dir, 'out')))).toEqual(['lm--plain']);
      without.child.kill('SIGTERM');
      expect(await without.done, without.stderr()).toBe(0);

      // Submitted again where a worker has the plugin, the failed run is retried; the finished one stays.
      const withPlugin = spawnCli(['worker', '--queue', server().url, '--backend', 'cpu', '--plugin', './identity.mjs'], dir);
      const plainBefore = readFileSync(path.join(dir, 'out', 'runs', 'lm--plain.json'), 'utf8');
      const again = await runCli(submit, dir);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/queued 1 run\(s\)/);
      expect(Object.keys(runFiles(path.join(dir, 'out'))).sort()).toEqual(['lm--ident', 'lm--plain']);
      expect(readFileSync(path.join(dir, 'out', 'runs', 'lm--plain.json'), 'utf8')).toBe(plainBefore);

      // --force runs both again, and the new results replace the old ones.
      const forced = await runCli([...submit, '--force'], dir);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toMatch(/queued 2 run\(s\)/);
      expect(readFileSync(path.join(dir, 'out', 'runs', 'lm--plain.json'), 'utf8')).not.toBe(plainBefore);
      const took = [without, withPlugin].map((w) => w.stdout()).join('\n');
      expect([...took.matchAll(/finished (\S+) in/g)].map((m) => m[1]).sort()).toEqual(['lm--ident', 'lm--ident', 'lm--plain', 'lm--plain']);
      withPlugin.child.kill('SIGTERM');
      expect(await withPlugin.done, withPlugin.stderr()).toBe(0);
      await queue.close();
    },
  );

  it('stops an idle worker on SIGTERM while its Redis is away, quietly', { timeout: 120_000 }, async () => {
    const dir = tempDir(files());
    const worker = spawnCli(['worker', '--queue', server().url, '--backend', 'cpu'], dir);
    try {
      await waitFor('the worker started', () => /mixers: /.test(worker.stdout()), [worker]);
      await server().kill();
      await waitFor('the outage noticed', () => /connection refused/.test(worker.stdout()), [worker]);
      worker.child.kill('SIGTERM');
      // BullMQ's own close would wait for Redis to come back: this resolves only if the worker gives up.
      expect(await worker.done, worker.stderr()).toBe(0);
      expect(worker.stderr()).not.toMatch(/Unhandled error event|\n\s+at /);
    } finally {
      await server().restart();
    }
  });
});
