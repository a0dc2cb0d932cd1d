import { mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { CharTokenizer } from '../data/tokenizer.js';
import { ShiftmixModel } from '../model/model.js';
import { toyMean, toyShift } from '../model/toy-mixers.test-util.js';
import { registerMixer, unregisterMixer } from '../registry.js';
import { tf } from '../tf.js';
import { AdamW } from '../train/adamw.js';
import { DEFAULT_RECIPE } from '../train/recipe.js';
import { stagingPaths } from './atomic.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { loadCheckpoint } from './load.js';
import { saveCheckpoint } from './save.js';

const modelConfig = { vocabSize: 7, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0.1, seed: 3 };
const state = { step: 5, modelRng: 123, dataRng: 456, bestValLoss: 1.5, metricsBytes: 0, elapsed: 2.5 };
let root: string;

function values(map: Map<string, tf.Tensor> | Map<string, tf.Variable>): Record<string, number[]> {
  return Object.fromEntries([...map].map(([name, t]) => [name, Array.from(t.dataSync())]));
}

/** A model whose weights and optimizer moments differ from a fresh one, saved to `dir`. */
async function saveTrained(dir: string, seed = 3) {
  const model = ShiftmixModel.create({ ...modelConfig, seed });
  const optimizer = new AdamW(model.weights(), { weightDecay: 0.1 });
  const grads = new Map([...model.weights()].map(([name, v]) => [name, tf.randomNormal(v.shape, 0, 1, 'float32', 9)]));
  optimizer.apply(grads, 0.01);
  tf.dispose([...grads.values()]);
  const tokenizer = CharTokenizer.fromText('abcdefg');
  await saveCheckpoint(dir, { model, tokenizer, recipe: DEFAULT_RECIPE, optimizer: optimizer.getState(), state });
  return { model, optimizer };
}

describe('checkpoints', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    registerMixer(toyShift);
    registerMixer(toyMean);
    root = await mkdtemp(join(tmpdir(), 'shiftmix-ckpt-'));
  });
  afterAll(async () => {
    unregisterMixer('toy-shift');
    unregisterMixer('toy-mean');
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips weights, optimizer moments, tokenizer, recipe and state', async () => {
    const dir = join(root, 'roundtrip');
    const { model, optimizer } = await saveTrained(dir);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'optimizer.safetensors', 'state.json', 'tokenizer.json', 'weights.safetensors']);
    const loaded = await loadCheckpoint(dir, { optimizer: true });
    expect(values(loaded.model.weights())).toEqual(values(model.weights()));
    expect(values(loaded.optimizer!.m)).toEqual(values(optimizer.getState().m));
    expect(values(loaded.optimizer!.v)).toEqual(values(optimizer.getState().v));
    expect(loaded.state).toEqual(state);
    expect(loaded.model.rng.state).toBe(state.modelRng);
    expect(loaded.recipe).toEqual(DEFAULT_RECIPE);
    expect(CharTokenizer.fromJSON(loaded.tokenizer).decode(Int32Array.from([0, 6]))).toBe('ag');
    expect(loaded.config.params).toBe(model.paramCount());
    tf.dispose([...loaded.optimizer!.m.values(), ...loaded.optimizer!.v.values()]);
    loaded.model.dispose();
    model.dispose();
    optimizer.dispose();
  });

  it('keeps the options a layer pattern gives single blocks', async () => {
    const dir = join(root, 'per-layer');
    const model = ShiftmixModel.create({ ...modelConfig, layers: 'toy-mean(scale=3),toy-shift,toy-mean', mixers: { 'toy-mean': { scale: 0.5 } } });
    await saveCheckpoint(dir, { model, tokenizer: CharTokenizer.fromText('abcdefg'), recipe: DEFAULT_RECIPE, state });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.model.blocks.map((b) => b.mixerConfig)).toEqual([{ scale: 3 }, {}, { scale: 0.5 }]);
    const input = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
    const [a, b] = [model, loaded.model].map((m) => m.forward(input, { training: false }));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([input, a, b]);
    loaded.model.dispose();
    model.dispose();
  });

  it('names a plugin that replaced a shipped mixer when the weights do not fit', async () => {
    const dir = join(root, 'replaced');
    // A model of the "shipped" softmax-attention, then a plugin of the same name with other weights.
    registerMixer({ ...toyShift, name: 'softmax-attention' }, { source: '@shiftmix/mixer-softmax-attention' });
    try {
      const model = ShiftmixModel.create({ ...modelConfig, layers: 'softmax-attention' });
      await saveCheckpoint(dir, { model, tokenizer: CharTokenizer.fromText('abcdefg'), recipe: DEFAULT_RECIPE, state });
      model.dispose();
      registerMixer({ ...toyMean, name: 'softmax-attention' } as unknown as typeof toyShift, { source: './override.js' });
      await expect(loadCheckpoint(dir)).rejects.toThrow(
        /does not match the model its config\.json describes: no tensor "wpe"\. Mixer "softmax-attention" is registered from \.\/override\.js in place of the shipped @shiftmix\/mixer-softmax-attention; load this checkpoint without that plugin/,
      );
    } finally {
      unregisterMixer('softmax-attention');
    }
  });

  it('refuses truncated, corrupt, missing, mismatched and wrong-version checkpoints, naming the problem', async () => {
    const dir = join(root, 'damaged');
    const { model, optimizer } = await saveTrained(dir);
    model.dispose();
    optimizer.dispose();
    const copy = async (name: string) => {
      const target = join(root, `damaged-${name}`);
      await rm(target, { recursive: true, force: true });
      await saveTrained(target).then(({ model: m, optimizer: o }) => (m.dispose(), o.dispose()));
      return target;
    };
    const before = tf.memory().numTensors;

    const truncated = await copy('truncated');
    const weights = await readFile(join(truncated, 'weights.safetensors'));
    await writeFile(join(truncated, 'weights.safetensors'), weights.subarray(0, weights.length - 10));
    await expect(loadCheckpoint(truncated)).rejects.toThrow(/weights\.safetensors has \d+ bytes.*\(truncated\)/);

    const corrupt = await copy('corrupt');
    const moments = await readFile(join(corrupt, 'optimizer.safetensors'));
    moments[moments.length - 3] ^= 0xff;
    await writeFile(join(corrupt, 'optimizer.safetensors'), moments);
    await expect(loadCheckpoint(corrupt, { optimizer: true })).rejects.toThrow(/optimizer\.safetensors is corrupt/);

    const missing = await copy('missing');
    await rm(join(missing, 'tokenizer.json'));
    await expect(loadCheckpoint(missing)).rejects.toThrow(/missing tokenizer\.json/);

    // A header that is not safetensors at all, with config.json's record updated to match: the decoder must catch it.
    const garbage = await copy('garbage');
    const bytes = Buffer.from('not a safetensors file at all');
    await writeFile(join(garbage, 'weights.safetensors'), bytes);
    const cfg = JSON.parse(await readFile(join(garbage, 'config.json'), 'utf8'));
    const { createHash } = await import('node:crypto');
    cfg.files['weights.safetensors'] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    await writeFile(join(garbage, 'config.json'), JSON.stringify(cfg));
    await expect(loadCheckpoint(garbage)).rejects.toThrow(/weights\.safetensors cannot be read/);

    const mismatched = await copy('mismatched');
    const mcfg = JSON.parse(await readFile(join(mismatched, 'config.json'), 'utf8'));
    mcfg.model.dim = 12;
    await writeFile(join(mismatched, 'config.json'), JSON.stringify(mcfg));
    await expect(loadCheckpoint(mismatched)).rejects.toThrow(/does not match the model.*shape \[7,8\], the model needs \[7,12\]/);

    const renamed = await copy('renamed');
    const rcfg = JSON.parse(await readFile(join(renamed, 'config.json'), 'utf8'));
    rcfg.model.layers = 'toy-shift*3';
    await writeFile(join(renamed, 'config.json'), JSON.stringify(rcfg));
    await expect(loadCheckpoint(renamed)).rejects.toThrow(/does not match the model.*no tensor "blocks\.2/);

    const version = await copy('version');
    const vcfg = JSON.parse(await readFile(join(version, 'config.json'), 'utf8'));
    vcfg.formatVersion = 99;
    await writeFile(join(version, 'config.json'), JSON.stringify(vcfg));
    await expect(loadCheckpoint(version)).rejects.toThrow(/format version 99, this shiftmix reads version 1.*Upgrade/);

    await expect(loadCheckpoint(join(root, 'nowhere'))).rejects.toThrow(/no checkpoint directory/);
    // Models built during refused loads were disposed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps the previous checkpoint when a save fails midway, and recovers from an interrupted swap', async () => {
    const dir = join(root, 'atomic');
    const { model, optimizer } = await saveTrained(dir);
    const good = values(model.weights());
    const goodFiles = (await readdir(dir)).sort();
    // Saving a model whose weights were disposed fails while writing weights.safetensors.
    const broken = ShiftmixModel.create({ ...modelConfig, seed: 4 });
    broken.dispose();
    await expect(saveCheckpoint(dir, { model: broken, state: { ...state, step: 9 } })).rejects.toThrow(/disposed/);
    expect((await readdir(dir)).sort()).toEqual(goodFiles);
    expect((await readdir(root)).filter((n) => n.includes('partial'))).toEqual([]);
    const loaded = await loadCheckpoint(dir);
    expect(values(loaded.model.weights())).toEqual(good);
    expect(loaded.state.step).toBe(5);
    loaded.model.dispose();

    // A crash between the two renames leaves only .atomic.previous: loading moves it back.
    await rename(dir, stagingPaths(dir).previous);
    const recovered = await loadCheckpoint(dir);
    expect(values(recovered.model.weights())).toEqual(good);
    recovered.model.dispose();
    model.dispose();
    optimizer.dispose();
  });

  it('refuses weights and moments that are not finite, even when their hashes match, naming the tensor and the checkpoint', async () => {
    const { createHash } = await import('node:crypto');
    // Rewrites one tensor of a saved file and config.json's record of it, as a tool that saved a diverged model would.
    const poison = async (dir: string, file: string, tensor: string, value: number) => {
      const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(join(dir, file))));
      (tensors[tensor].data as Float32Array)[3] = value;
      const bytes = encodeSafetensors(tensors, metadata);
      await writeFile(join(dir, file), bytes);
      const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      cfg.files[file] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
      await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
    };
    const before = tf.memory().numTensors;
    const nanWeights = join(root, 'nan-weights');
    await saveTrained(nanWeights).then(({ model: m, optimizer: o }) => (m.dispose(), o.dispose()));
    await poison(nanWeights, 'weights.safetensors', 'blocks.1.ffn.w1', Number.NaN);
    const refused = loadCheckpoint(nanWeights);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `checkpoint ${nanWeights}: weights\\.safetensors tensor "blocks\\.1\\.ffn\\.w1" holds NaN \\(1 of \\d+ values are not finite, the first at index 3\\)\\. These weights are unusable`,
      ),
    );
    await expect(refused).rejects.toMatchObject({ code: 'E_CHECKPOINT_NONFINITE' });

    const infMoments = join(root, 'inf-moments');
    await saveTrained(infMoments).then(({ model: m, optimizer: o }) => (m.dispose(), o.dispose()));
    await poison(infMoments, 'optimizer.safetensors', 'v.wte', Number.POSITIVE_INFINITY);
    await expect(loadCheckpoint(infMoments, { optimizer: true })).rejects.toThrow(/optimizer\.safetensors tensor "v\.wte" holds Infinity/);
    // The weights alone are sound: generation and export may still read them.
    const weightsOnly = await loadCheckpoint(infMoments);
    weightsOnly.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to save weights that are not finite and keeps the checkpoint there was', async () => {
    const dir = join(root, 'save-nan');
    const { model, optimizer } = await saveTrained(dir);
    const goodConfig = await readFile(join(dir, 'config.json'), 'utf8');
    const head = model.weights().get('blocks.0.ffn.w1')!;
    head.assign(tf.tidy(() => tf.mul(head, Number.NEGATIVE_INFINITY)));
    const saving = saveCheckpoint(dir, { model, state: { ...state, step: 9 } });
    await expect(saving).rejects.toThrow(/tensor "blocks\.0\.ffn\.w1" holds -?Infinity .*so checkpoint .*save-nan was not written/);
    await expect(saving).rejects.toMatchObject({ code: 'E_NONFINITE_WEIGHTS' });
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(goodConfig);
    expect((await readdir(root)).filter((n) => n.includes('partial'))).toEqual([]);
    model.dispose();
    optimizer.dispose();
  });

  it('refuses to resume from a weights-only checkpoint', async () => {
    const dir = join(root, 'weights-only');
    const model = ShiftmixModel.create(modelConfig);
    await saveCheckpoint(dir, { model, state });
    await expect(loadCheckpoint(dir, { optimizer: true })).rejects.toThrow(/holds weights only/);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.tokenizer).toBeUndefined();
    loaded.model.dispose();
    model.dispose();
  });
});
