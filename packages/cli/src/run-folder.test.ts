import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './test-helpers.js';
import { killAll, spawnCli, waitFor, type CliProcess } from './test-processes.js';

// Real `shiftmix` processes on one run folder: what two terminals, a killed job or a
// scheduler's SIGTERM do to it.
const LINES = ['the quick brown fox jumps over the lazy dog', 'pack my box with five dozen liquor jugs', 'how vexingly quick daft zebras jump'];
const TEXT = Array.from({ length: 40 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n';
const TINY = ['--dim', '16', '--heads', '2', '--ctx', '16', '--batch', '4', '--ffn', '32', '--eval-batches', '2', '--warmup', '2', '--backend', 'cpu'];

afterAll(killAll);

// The CLI package, whose node_modules resolve @shiftmix/core to its build.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

const metricsLines = (dir: string): string[] => {
  const file = path.join(dir, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
};
const stateStep = (dir: string): number => (JSON.parse(readFileSync(path.join(dir, 'last', 'state.json'), 'utf8')) as { step: number }).step;
/** What a run computed, step by step: everything of metrics.jsonl but the clock. */
const trajectory = (dir: string) =>
  metricsLines(dir).map((line) => {
    const { step, trainLoss, valLoss, lr, gradNorm } = JSON.parse(line) as Record<string, number>;
    return { step, trainLoss, valLoss, lr, gradNorm };
  });
const fileHashes = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'last', 'config.json'), 'utf8')) as { files: Record<string, unknown> }).files;
const oneLine = (p: CliProcess): string => {
  const lines = p.stderr().trimEnd().split('\n');
  expect(lines, p.stderr()).toHaveLength(1);
  return lines[0];
};

describe('one run folder, several processes', () => {
  it('refuses a second train or resume naming the first; a killed process leaves a lock the next one takes over', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    const run = path.join(cwd, 'run');
    const first = spawnCli(['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', 'run', '--steps', '5000', '--eval-every', '2', ...TINY], cwd);
    await waitFor('the first run to save', () => existsSync(path.join(run, 'last')), [first]);
    const holder = JSON.parse(readFileSync(path.join(run, 'run.lock'), 'utf8')) as Record<string, unknown>;
    expect(holder).toMatchObject({ pid: first.child.pid, command: 'shiftmix train --out run' });

    const again = spawnCli(['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', 'run', '--steps', '3', '--overwrite', ...TINY], cwd);
    const resumed = spawnCli(['resume', '--out', 'run'], cwd);
    for (const second of [again, resumed]) {
      expect(await second.done).toBe(1);
      expect(oneLine(second)).toBe(
        `shiftmix: run directory ${run} is in use by process ${first.child.pid} (shiftmix train --out run) since ${holder.started}. ` +
          `Wait for it to finish or stop it, or use another directory; if that process is no longer running, delete ${path.join(run, 'run.lock')}`,
      );
    }
    expect(first.child.exitCode).toBeNull();

    // Killed outright, the first leaves its lock behind; every line it wrote is whole.
    first.child.kill('SIGKILL');
    await first.done;
    expect(existsSync(path.join(run, 'run.lock'))).toBe(true);
    const saved = stateStep(run);
    const next = spawnCli(['resume', '--out', 'run', '--steps', String(saved + 3)], cwd);
    expect(await next.done, next.stderr()).toBe(0);
    expect(next.stderr()).toContain(
      `shiftmix: warning: ${path.join(run, 'run.lock')} was left by process ${first.child.pid} (shiftmix train --out run) since ${holder.started}, which is no longer running; taking the directory over`,
    );
    expect(existsSync(path.join(run, 'run.lock'))).toBe(false);
    expect(trajectory(run).map((r) => r.step)).toEqual(Array.from({ length: saved + 3 }, (_, i) => i + 1));
  });

  it('releases the lock when the process exits holding it, as a second Ctrl-C or SIGTERM makes it', async () => {
    const cwd = tempDir();
    const dir = path.join(cwd, 'run');
    // The library as the command loads it; process.exit runs no finally blocks, only exit listeners.
    const script = `import { lockRunDirectory } from '@shiftmix/core/tooling'; lockRunDirectory(${JSON.stringify(dir)}); process.stdout.write('held'); process.exit(130);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(out).toBe('held');
    expect(code).toBe(130);
    expect(existsSync(dir)).toBe(true);
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });

  it('stops train and resume on SIGTERM after the step, saves last/, exits 143, and the run goes on bit-identically', async () => {
    const cwd = tempDir({ 'data.txt': TEXT });
    // One evaluation, at the end: only the stop saves last/ before it.
    const argv = (out: string) => ['train', '--data', 'data.txt', '--layers', 'hsm-ab', '--out', out, '--steps', '60', '--eval-every', '100', ...TINY];
    const straight = spawnCli(argv('straight'), cwd);
    const stopped = spawnCli(argv('stopped'), cwd);
    const dir = path.join(cwd, 'stopped');
    await waitFor('three steps', () => metricsLines(dir).length >= 3, [stopped]);
    stopped.child.kill('SIGTERM');
    expect(await stopped.done, stopped.stderr()).toBe(143);
    expect(stopped.stderr()).toContain('shiftmix: SIGTERM: stopping after this step and saving last/ (SIGTERM again to quit now)');
    const at = stateStep(dir);
    expect(at).toBe(metricsLines(dir).length);
    expect(at).toBeLessThan(60);
    expect(stopped.stdout()).toContain(`stopped at step ${at}`);
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);

    const resumed = spawnCli(['resume', '--out', 'stopped'], cwd);
    await waitFor('three more steps', () => metricsLines(dir).length >= at + 3, [resumed]);
    resumed.child.kill('SIGTERM');
    expect(await resumed.done, resumed.stderr()).toBe(143);
    expect(stateStep(dir)).toBeGreaterThan(at);
    const finished = spawnCli(['resume', '--out', 'stopped'], cwd);
    expect(await finished.done, finished.stderr()).toBe(0);
    expect(await straight.done, straight.stderr()).toBe(0);

    const reference = path.join(cwd, 'straight');
    expect(trajectory(dir)).toEqual(trajectory(reference));
    expect(trajectory(dir)).toHaveLength(60);
    const [a, b] = [fileHashes(dir), fileHashes(reference)];
    expect(a['weights.safetensors']).toEqual(b['weights.safetensors']);
    expect(a['optimizer.safetensors']).toEqual(b['optimizer.safetensors']);
  });
});
