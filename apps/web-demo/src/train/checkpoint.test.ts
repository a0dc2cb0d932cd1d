import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharTokenizer, checkpointFiles, loadCheckpoint, selectBackend, ShiftmixModel, tf } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointTar, fileSafeName, pickCheckpoint, type OpenedFile } from './checkpoint.js';
import { writeTar } from './tar.js';

const work = mkdtempSync(join(tmpdir(), 'shiftmix-page-ckpt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const text = (s: string) => new TextEncoder().encode(s);
/** Files as a folder pick gives them: paths under the chosen folder; `read` counts the reads. */
function opened(paths: string[], reads: string[] = []): OpenedFile[] {
  return paths.map((path) => ({
    path,
    read: async () => {
      reads.push(path);
      return text(path);
    },
  }));
}
const CKPT = ['config.json', 'weights.safetensors', 'state.json', 'tokenizer.json', 'optimizer.safetensors'];
const under = (dir: string, names = CKPT) => names.map((n) => `${dir}/${n}`);

describe('checkpoints of the Train page', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    registerHsmAb();
  });

  it('downloads a .tar that unpacks, with the system tar, into a run folder the CLI loader accepts', async () => {
    const tokenizer = CharTokenizer.fromText('abcdefgh ');
    const model = ShiftmixModel.create({ vocabSize: tokenizer.vocabSize, dim: 16, heads: 2, contextLength: 8, layers: 'hsm-ab*2', seed: 4 });
    const state = { step: 3, modelRng: 1, dataRng: 2, bestValLoss: null, metricsBytes: 0, elapsed: 1 };
    const files = await checkpointFiles({ model, tokenizer, state });
    const { fileName, bytes } = checkpointTar('hsm-ab*2 (fine-tuned)', files);
    expect(fileName).toBe('hsm-ab-2-fine-tuned.tar');
    writeFileSync(join(work, fileName), bytes);
    const run = spawnSync('tar', ['-xf', fileName], { cwd: work, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const loaded = await loadCheckpoint(join(work, 'hsm-ab-2-fine-tuned', 'last'));
    expect(loaded.state.step).toBe(3);
    const input = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
    const [a, b] = [model, loaded.model].map((m) => m.forward(input, { training: false }));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([input, a, b]);
    loaded.model.dispose();
    model.dispose();
  });

  it('finds the checkpoint in what the user opened, as the CLI does: the folder, else best/, else last/', async () => {
    const reads: string[] = [];
    const run = await pickCheckpoint(
      opened([...under('hsm/best', CKPT.slice(0, 4)), ...under('hsm/last'), 'hsm/metrics.jsonl', 'hsm/run.json'], reads),
      'the folder hsm',
    );
    expect(run).toMatchObject({ name: 'hsm', dir: 'hsm/best' });
    expect([...run.files.keys()].sort()).toEqual(CKPT.slice(0, 4).sort());
    // Only the chosen checkpoint's files are read.
    expect(reads.every((p) => p.startsWith('hsm/best/'))).toBe(true);

    expect(await pickCheckpoint(opened([...under('hsm/last'), 'hsm/metrics.jsonl']), 'x')).toMatchObject({ name: 'hsm', dir: 'hsm/last' });
    const last = await pickCheckpoint(opened(under('hsm/last')), 'the folder last');
    expect(last).toMatchObject({ name: 'hsm', dir: 'hsm/last' });
    expect(new TextDecoder().decode(last.files.get('state.json'))).toBe('hsm/last/state.json');
    expect(await pickCheckpoint(opened(under('my-model')), 'x')).toMatchObject({ name: 'my-model', dir: 'my-model' });
    expect(await pickCheckpoint(opened([...CKPT, 'notes.txt']), 'x')).toMatchObject({ name: 'checkpoint', dir: '' });
    const loose = [
      { path: 'config.json', read: async () => text('{"model": {"layers": "hsm-ab*4"}}') },
      { path: 'weights.safetensors', read: async () => text('w') },
    ];
    expect(await pickCheckpoint(loose, 'x')).toMatchObject({ name: 'hsm-ab-4', dir: '' });

    // A .tar the page downloaded opens as the folder it unpacks to.
    const files = new Map(CKPT.map((n) => [n, text(`${n}!`)]));
    const tarred = checkpointTar('gpt', files).bytes;
    const fromTar = await pickCheckpoint([{ path: 'gpt.tar', read: async () => tarred }], 'gpt.tar');
    expect(fromTar).toMatchObject({ name: 'gpt', dir: 'gpt/last' });
    expect(new TextDecoder().decode(fromTar.files.get('weights.safetensors'))).toBe('weights.safetensors!');
  });

  it('says plainly when there is no checkpoint, or where one is', async () => {
    await expect(pickCheckpoint(opened(['texts/a.txt', 'texts/b.txt']), 'the folder texts')).rejects.toThrow(
      /^the folder texts holds no shiftmix checkpoint \(no config\.json, best\/ or last\/ in texts\)\. Open a checkpoint folder written by shiftmix train/,
    );
    await expect(pickCheckpoint(opened(['runs/a.txt', ...under('runs/hsm/last')]), 'the folder runs')).rejects.toThrow(
      /the folder runs holds no shiftmix checkpoint .*\. Open the folder runs\/hsm\/last itself/,
    );
    await expect(pickCheckpoint(opened(['weights.safetensors', 'state.json']), '2 files')).rejects.toMatchObject({ code: 'E_NOT_CHECKPOINT' });
    await expect(pickCheckpoint([{ path: 'x.tar', read: async () => text('no tar here'.repeat(60)) }], 'x.tar')).rejects.toThrow(
      /^x\.tar is not a tar archive \(.*\)\. Open the \.tar this page downloaded/,
    );
    const other = writeTar([{ path: 'notes/readme.txt', bytes: text('hi') }]);
    await expect(pickCheckpoint([{ path: 'notes.tar', read: async () => other }], 'notes.tar')).rejects.toThrow(/notes\.tar holds no shiftmix checkpoint/);
  });

  it('names files and folders safely', () => {
    expect(fileSafeName('hsm-ab')).toBe('hsm-ab');
    expect(fileSafeName('hsm-ab*2,softmax-attention(window=4)')).toBe('hsm-ab-2-softmax-attention-window-4');
    expect(fileSafeName('../..')).toBe('model');
    expect(fileSafeName('ünïcode')).toBe('n-code');
  });
});
