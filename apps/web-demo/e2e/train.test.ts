import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE, app, expectFitsPhone, shots, useSite } from './site.js';

// The Train page (train.html) in headless Chromium: models trained by shiftmix's trainer in
// a web worker, their curves on one chart, generation with the last one, and checkpoints
// between the page and the shiftmix CLI (which must be built: the repository's npm test
// builds first).

const repo = resolve(app, '../..');
const served = useSite();

interface Run {
  label: string;
  started?: { backend: string; note: string | null; trainTokens: number };
  points: { step: number; trainLoss: number; valLoss?: number }[];
  result?: { steps: number; stepKind: string; stopped: boolean };
  error?: string;
  checkpointStep?: number;
}

const SMALL = 'dim=32&heads=2&ctx=32&batch=8&lr=0.003';

async function trainPage(query: string, width = 1280): Promise<{ page: Page; runs: Run[] }> {
  const page = await served.site.browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`${served.site.url}train.html?${query}&autostart`);
  await page.waitForFunction(() => window.trainDemo?.state === 'done', null, { timeout: 5 * MINUTE });
  const runs = (await page.evaluate(() => window.trainDemo.runs)) as Run[];
  for (const run of runs) expect(run.error, run.label).toBeUndefined();
  return { page, runs };
}

const PROMPT = 'ROMEO:\nWhat';
const FILES = ['config.json', 'optimizer.safetensors', 'state.json', 'tokenizer.json', 'weights.safetensors'];
// Downloads, and what the CLI makes of them.
const work = mkdtempSync(join(tmpdir(), 'shiftmix-train-page-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a command of the repository's tools from its root; fails the test with its output when it fails. */
function run(args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', timeout: 3 * MINUTE });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}
const cli = (...args: string[]) => run(['packages/cli/bin/shiftmix.js', ...args]);
/** The logits Node computes for a checkpoint folder, loaded as the CLI loads it. */
const nodeLogits = (dir: string) => JSON.parse(run([join(app, 'e2e/checkpoint-logits.mjs'), dir, PROMPT])) as { step: number; logits: number[][] };
const pageLogits = (page: Page) => page.evaluate((prompt) => window.trainLogits(prompt), PROMPT);
function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, t) => {
    expect(row.length).toBe(b[t].length);
    row.forEach((x, v) => (max = Math.max(max, Math.abs(x - b[t][v]))));
  });
  return max;
}
/** Opens a folder (the folder button) or files (the files button) and waits for the page's answer. */
async function open(page: Page, input: '#open-folder' | '#open-files', paths: string | string[]) {
  await page.evaluate(() => {
    window.trainDemo.checkpoint = undefined;
    window.trainDemo.checkpointError = undefined;
  });
  await page.setInputFiles(input, paths);
  await page.waitForFunction(() => window.trainDemo.checkpoint || window.trainDemo.checkpointError, null, { timeout: MINUTE });
  return page.evaluate(() => ({
    checkpoint: window.trainDemo.checkpoint,
    error: window.trainDemo.checkpointError,
    notice: document.querySelector('#notice')!.textContent,
  }));
}

/** Clicks a run's "Download checkpoint", saves the .tar in `work` and unpacks it there; returns the run folder. */
async function downloadRun(page: Page, index: number, fileName: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#runs button[data-run="${index}"]`)]);
  expect(download.suggestedFilename()).toBe(fileName);
  await download.saveAs(join(work, fileName));
  const untar = spawnSync('tar', ['-xf', fileName], { cwd: work, encoding: 'utf8' });
  expect(untar.status, untar.stderr).toBe(0);
  const runDir = join(work, fileName.slice(0, -'.tar'.length));
  expect(readdirSync(join(runDir, 'last')).sort()).toEqual(FILES);
  return runDir;
}

describe('training in the page', () => {
  it(
    'trains two models one after another on wasm: both losses fall, both curves are drawn, the last model generates',
    async () => {
      const { page, runs } = await trainPage(`models=gpt,hsm-ab&steps=40&${SMALL}&provider=wasm`);
      expect(runs.map((r) => r.label)).toEqual(['gpt', 'hsm-ab']);
      for (const run of runs) {
        expect(run.started?.backend).toBe('wasm');
        expect(run.result?.steps).toBe(40);
        expect(run.points).toHaveLength(40);
        // From about ln(65) = 4.17 at the start; 40 steps learn the character frequencies.
        expect(run.points[0].trainLoss).toBeGreaterThan(3.8);
        expect(run.points.at(-1)!.trainLoss).toBeLessThan(run.points[0].trainLoss - 0.4);
        for (const kind of ['train', 'val']) {
          const drawn = await page.getAttribute(`#chart path[data-label="${run.label}"][data-kind="${kind}"]`, 'data-points');
          expect(Number(drawn), `${run.label} ${kind}`).toBe(run.points.filter((p) => kind === 'train' || p.valLoss !== undefined).length);
        }
      }
      // The same data for both (the seed is shared too).
      expect(runs[0].started?.trainTokens).toBe(runs[1].started?.trainTokens);
      expect(await page.textContent('#runs tbody')).toContain('hsm-ab');

      await page.click('#sample');
      await page.waitForFunction(() => (window.trainDemo.sample ?? '').length > 0, null, { timeout: MINUTE });
      const sample = (await page.evaluate(() => window.trainDemo.sample))!;
      expect(sample.startsWith('ROMEO:')).toBe(true);
      expect(sample.length).toBeGreaterThan('ROMEO:'.length + 50);
      await page.screenshot({ path: join(shots, 'train-wasm.png'), fullPage: true });

      await expectFitsPhone(page, 'train-390.png');
      await page.close();
    },
    5 * MINUTE,
  );

  it(
    'takes wasm under auto when the only WebGPU adapter is a software one, and says why',
    async () => {
      const software = await (async () => {
        const page = await served.site.browser.newPage();
        await page.goto(`${served.site.url}train.html`);
        const info = await page.evaluate(async () => {
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
          const adapter = await gpu?.requestAdapter();
          return adapter ? JSON.stringify(adapter.info ?? {}) : null;
        });
        await page.close();
        return info !== null && /swiftshader|llvmpipe|lavapipe|software|"isFallbackAdapter":true/i.test(info);
      })();
      const { page, runs } = await trainPage(`models=gpt&steps=5&${SMALL}&provider=auto`);
      const backend = await page.textContent('#backend');
      if (software) {
        expect(runs[0].started?.backend).toBe('wasm');
        expect(backend).toMatch(/Backend: wasm \(the only WebGPU adapter is software.*choose webgpu under Backend to force it\)/);
      } else {
        expect(backend).toMatch(/^Backend: (webgpu|wasm)/);
      }
      await page.close();
    },
    5 * MINUTE,
  );

  it(
    'trains on WebGPU with the compiled step when webgpu is chosen',
    async () => {
      const { page, runs } = await trainPage(`models=hsm-ab&steps=8&${SMALL}&batch=4&provider=webgpu`);
      const [run] = runs;
      expect(run.started?.backend).toBe('webgpu');
      expect(run.result?.stepKind).toBe('compiled');
      expect(run.points.every((p) => Number.isFinite(p.trainLoss))).toBe(true);
      expect(run.points.at(-1)!.trainLoss).toBeLessThan(run.points[0].trainLoss);
      // Its checkpoint, read back from the GPU after the compiled steps, is the model the page runs.
      expect(run.checkpointStep).toBe(8);
      const runDir = await downloadRun(page, 0, 'hsm-ab.tar');
      const difference = maxDifference(await pageLogits(page), nodeLogits(join(runDir, 'last')).logits);
      console.log(`page on WebGPU -> CLI: max logit difference ${difference.toExponential(2)}`);
      expect(difference).toBeLessThan(1e-4);
      rmSync(runDir, { recursive: true });
      await page.screenshot({ path: join(shots, 'train-webgpu.png'), fullPage: true });
      await page.close();
    },
    5 * MINUTE,
  );
});

describe('checkpoints between the page and the CLI', () => {
  it(
    'round trip page -> CLI -> page: the same logits within 1e-4; the CLI generates with and resumes the download; the page trains on from it',
    async () => {
      const { page, runs } = await trainPage(`models=hsm-ab&steps=10&${SMALL}&provider=wasm`);
      expect(runs[0].checkpointStep).toBe(10);
      const runDir = await downloadRun(page, 0, 'hsm-ab.tar');

      // Page -> Node: the page's model and the checkpoint loaded as the CLI loads it give the same logits.
      const trainedLogits = await pageLogits(page);
      const downloaded = nodeLogits(join(runDir, 'last'));
      expect(downloaded.step).toBe(10);
      const pageToNode = maxDifference(trainedLogits, downloaded.logits);
      console.log(`page -> CLI: max logit difference ${pageToNode.toExponential(2)} over ${PROMPT.length} x ${trainedLogits[0].length} logits`);
      expect(pageToNode).toBeLessThan(1e-4);

      // The CLI generates with it, and resumes it for two more steps.
      expect(cli('generate', '--checkpoint', runDir, '--prompt', 'ROMEO:', '--tokens', '40', '--seed', '3', '--backend', 'cpu')).toMatch(/^ROMEO:[\s\S]{40,}/);
      const data = join(repo, 'benchmarks/data/tinyshakespeare.txt');
      cli('resume', '--out', runDir, '--data', data, '--steps', '12', '--backend', 'cpu');
      const resumed = nodeLogits(join(runDir, 'last'));
      expect(resumed.step).toBe(12);
      // Two steps moved the weights.
      expect(maxDifference(resumed.logits, downloaded.logits)).toBeGreaterThan(1e-3);

      // CLI -> page: the resumed run folder (best/ where the CLI saved one, else last/: both hold step 12).
      const folder = await open(page, '#open-folder', runDir);
      expect(folder.error).toBeUndefined();
      expect(folder.checkpoint).toMatchObject({ name: 'hsm-ab', step: 12, layers: 'hsm-ab*4', backend: 'wasm' });
      expect(['hsm-ab/best', 'hsm-ab/last']).toContain(folder.checkpoint!.dir);
      expect(folder.notice).toMatch(/^Opened hsm-ab \(hsm-ab\/(best|last)\): hsm-ab\*4, D 32, context 32, .* step 12, on wasm\./);
      const cliToPage = maxDifference(await pageLogits(page), nodeLogits(join(work, folder.checkpoint!.dir)).logits);
      console.log(`CLI (resumed) -> page: max logit difference ${cliToPage.toExponential(2)}`);
      expect(cliToPage).toBeLessThan(1e-4);
      // last/'s five files, opened as files: resumable, the same logits.
      const files = await open(
        page,
        '#open-files',
        FILES.map((f) => join(runDir, 'last', f)),
      );
      // Loose files are named after their layer pattern.
      expect(files.checkpoint).toMatchObject({ name: 'hsm-ab-4', dir: '', step: 12, resumable: true });
      expect(maxDifference(await pageLogits(page), resumed.logits)).toBeLessThan(1e-4);

      // Train on from it with the page's recipe: the losses start where the checkpoint is, not from scratch.
      await page.uncheck('input[name=model][value="hsm-ab"]');
      await page.check('#from-checkpoint');
      await page.fill('#steps', '4');
      await page.click('#train');
      await page.waitForFunction(() => window.trainDemo.state === 'done' && window.trainDemo.runs.every((r) => r.result || r.error), null, {
        timeout: 5 * MINUTE,
      });
      const [tuned] = (await page.evaluate(() => window.trainDemo.runs)) as Run[];
      expect(tuned.error).toBeUndefined();
      expect(tuned.label).toBe('hsm-ab-4 (fine-tuned)');
      expect(tuned.result?.steps).toBe(4);
      expect(tuned.checkpointStep).toBe(4);
      expect(tuned.points[0].trainLoss).toBeLessThan(runs[0].points[0].trainLoss - 0.3);
      const [again] = await Promise.all([page.waitForEvent('download'), page.click('#runs button[data-run="0"]')]);
      expect(again.suggestedFilename()).toBe('hsm-ab-4-fine-tuned.tar');
      await page.screenshot({ path: join(shots, 'train-checkpoint.png'), fullPage: true });
      await page.close();
    },
    8 * MINUTE,
  );

  it(
    'says in one line what is wrong with a checkpoint it cannot open',
    async () => {
      const page = await served.site.browser.newPage();
      await page.goto(`${served.site.url}train.html?provider=wasm`);
      const source = join(work, 'hsm-ab', 'last');
      const copy = (name: string) => {
        const dir = join(work, 'bad', name);
        cpSync(source, join(dir, 'last'), { recursive: true });
        return dir;
      };

      const notes = join(work, 'bad', 'notes');
      mkdirSync(notes, { recursive: true });
      writeFileSync(join(notes, 'notes.txt'), 'not a checkpoint');
      const none = await open(page, '#open-folder', notes);
      expect(none.error).toMatch(
        /^the folder notes holds no shiftmix checkpoint \(no config\.json, best\/ or last\/ in notes\)\. Open a checkpoint folder written by shiftmix train/,
      );
      expect(none.notice).toBe(none.error);

      const plugin = copy('plugin');
      const config = JSON.parse(readFileSync(join(plugin, 'last', 'config.json'), 'utf8'));
      config.model.layers = 'my-mixer*2,hsm-ab*2';
      writeFileSync(join(plugin, 'last', 'config.json'), JSON.stringify(config));
      const unknown = await open(page, '#open-folder', plugin);
      expect(unknown.error).toMatch(
        /^checkpoint plugin uses mixer "my-mixer", which this page does not know \(layers my-mixer\*2,hsm-ab\*2\)\. This page runs .*hsm-ab/,
      );

      const damaged = copy('damaged');
      const weights = readFileSync(join(damaged, 'last', 'weights.safetensors'));
      weights[weights.length - 7] ^= 0x01;
      writeFileSync(join(damaged, 'last', 'weights.safetensors'), weights);
      const corrupt = await open(page, '#open-folder', damaged);
      expect(corrupt.error).toMatch(
        /^checkpoint damaged: weights\.safetensors is corrupt: its SHA-256 differs from the one config\.json recorded\. The checkpoint is damaged/,
      );

      // A checkpoint whose characters are not all Tiny Shakespeare's ("Z" is "é" there) opens, but cannot train on it.
      const narrow = copy('narrow');
      const tokenizer = JSON.parse(readFileSync(join(narrow, 'last', 'tokenizer.json'), 'utf8'));
      tokenizer.chars = tokenizer.chars.map((ch: string) => (ch === 'Z' ? '\u00e9' : ch));
      const tokenizerBytes = Buffer.from(`${JSON.stringify(tokenizer)}\n`);
      writeFileSync(join(narrow, 'last', 'tokenizer.json'), tokenizerBytes);
      const narrowConfig = JSON.parse(readFileSync(join(narrow, 'last', 'config.json'), 'utf8'));
      narrowConfig.files['tokenizer.json'] = { bytes: tokenizerBytes.length, sha256: createHash('sha256').update(tokenizerBytes).digest('hex') };
      writeFileSync(join(narrow, 'last', 'config.json'), JSON.stringify(narrowConfig));
      expect((await open(page, '#open-folder', narrow)).checkpoint).toMatchObject({ name: 'narrow', dir: 'narrow/last' });
      await page.uncheck('input[name=model][value="gpt"]');
      await page.uncheck('input[name=model][value="hsm-ab"]');
      await page.check('#from-checkpoint');
      await page.fill('#steps', '2');
      await page.click('#train');
      await page.waitForFunction(() => window.trainDemo.state === 'done', null, { timeout: MINUTE });
      const [refused] = (await page.evaluate(() => window.trainDemo.runs)) as Run[];
      expect(refused.error).toMatch(
        /^Tiny Shakespeare has characters checkpoint narrow was not trained on \(.*Z.*\)\. Train on from it with the text it was trained on/,
      );
      expect(await page.textContent('#notice')).toBe(`narrow (fine-tuned): ${refused.error}`);

      writeFileSync(join(work, 'bad', 'junk.tar'), 'no tar here '.repeat(100));
      const junk = await open(page, '#open-files', join(work, 'bad', 'junk.tar'));
      expect(junk.error).toMatch(/^junk\.tar is not a tar archive .*\. Open the \.tar this page downloaded/);
      await page.close();
    },
    3 * MINUTE,
  );
});
