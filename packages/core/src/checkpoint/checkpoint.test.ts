import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { CharTokenizer } from '../tokenizer/char.js';
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
import { checkpointFiles } from './encode.js';
import { loadCheckpointFiles } from './decode.js';

const modelConfig = { vocabSize: 7, dim: 8, heads: 2, contextLength: 8, layers: 'toy-shift*2', dropout: 0.1, seed: 3 };
const state = { step: 5, modelRng: 123, dataRng: 456, bestValLoss: 1.5, metricsBytes: 0, elapsed: 2.5 };
let root: string;
const createHashSync = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function values(map: Map<string, tf.Tensor> | Map<string, tf.Variable>): Record<string, number[]> {
  return Object.fromEntries([...map].map(([name, t]) => [name, Array.from(t.dataSync())]));
}

/** A model whose weights and optimizer moments differ from a fresh one, saved to `dir`. */
async function saveTrained(dir: string, seed = 3) {
  const { model, optimizer, contents } = trained(seed);
  await saveCheckpoint(dir, contents);
  return { model, optimizer };
}

/** A model whose weights and optimizer moments differ from a fresh one, and what a checkpoint of it holds. */
function trained(seed = 3) {
  const model = ShiftmixModel.create({ ...modelConfig, seed });
  const optimizer = new AdamW(model.weights(), { weightDecay: 0.1 });
  const grads = new Map([...model.weights()].map(([name, v]) => [name, tf.randomNormal(v.shape, 0, 1, 'float32', 9)]));
  optimizer.apply(grads, 0.01);
  tf.dispose([...grads.values()]);
  const tokenizer = CharTokenizer.fromText('abcdefg');
  return { model, optimizer, contents: { model, tokenizer, recipe: DEFAULT_RECIPE, optimizer: optimizer.getState(), state } };
}

/** The files of a checkpoint directory, as loadCheckpointFiles takes them. */
async function readDir(dir: string): Promise<Map<string, Uint8Array>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (name): Promise<[string, Uint8Array]> => [name, new Uint8Array(await readFile(join(dir, name)))])));
}

/** The error a promise rejects with, for comparing two refusals field by field. */
async function refusal(promise: Promise<unknown>): Promise<{ message: string; code: string }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { message: string; code: string } | undefined;
  expect(error, 'the load was expected to be refused').toBeDefined();
  return { message: error!.message, code: error!.code };
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
  describe('in memory', () => {
    it('checkpointFiles gives exactly the files saveCheckpoint writes, names and bytes', async () => {
      const dir = join(root, 'memory-same');
      const { model, optimizer, contents } = trained();
      await saveCheckpoint(dir, contents);
      const files = await checkpointFiles(contents);
      const written = await readDir(dir);
      expect([...files.keys()].sort()).toEqual([...written.keys()]);
      expect([...written.keys()]).toEqual(['config.json', 'optimizer.safetensors', 'state.json', 'tokenizer.json', 'weights.safetensors']);
      for (const [name, bytes] of written) expect(Buffer.from(files.get(name)!).equals(Buffer.from(bytes)), name).toBe(true);
      // config.json records each other file's SHA-256 (of node:crypto, independently of the WebCrypto that wrote it).
      const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
      const { createHash } = await import('node:crypto');
      for (const name of ['weights.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'state.json']) {
        expect(config.files[name]).toEqual({ bytes: files.get(name)!.byteLength, sha256: createHash('sha256').update(files.get(name)!).digest('hex') });
      }
      // Weights only: no optimizer.safetensors, no tokenizer.json, in both forms.
      const bare = await checkpointFiles({ model, state });
      expect([...bare.keys()].sort()).toEqual(['config.json', 'state.json', 'weights.safetensors']);
      model.dispose();
      optimizer.dispose();
    });

    it('loadCheckpointFiles loads what checkpointFiles gives: weights, moments, tokenizer, recipe, state', async () => {
      const { model, optimizer, contents } = trained(5);
      const files = await checkpointFiles(contents);
      const loaded = await loadCheckpointFiles(files, { optimizer: true, name: 'from-memory' });
      expect(loaded.dir).toBe('from-memory');
      expect(values(loaded.model.weights())).toEqual(values(model.weights()));
      expect(values(loaded.optimizer!.m)).toEqual(values(optimizer.getState().m));
      expect(values(loaded.optimizer!.v)).toEqual(values(optimizer.getState().v));
      expect(loaded.optimizer!.step).toBe(state.step);
      expect(loaded.state).toEqual(state);
      expect(loaded.model.rng.state).toBe(state.modelRng);
      expect(loaded.recipe).toEqual(DEFAULT_RECIPE);
      expect(loaded.model.config).toEqual(model.config);
      expect(CharTokenizer.fromJSON(loaded.tokenizer).decode(Int32Array.from([1, 5]))).toBe('bf');
      const input = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
      const [a, b] = [model, loaded.model].map((m) => m.forward(input, { training: false }));
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([input, a, b, ...loaded.optimizer!.m.values(), ...loaded.optimizer!.v.values()]);
      // A directory's files read into a map load the same way.
      const dir = join(root, 'memory-dir');
      await saveCheckpoint(dir, contents);
      const fromDir = await loadCheckpointFiles(await readDir(dir));
      expect(values(fromDir.model.weights())).toEqual(values(model.weights()));
      fromDir.model.dispose();
      loaded.model.dispose();
      model.dispose();
      optimizer.dispose();
    });

    it('refuses a damaged byte, a missing file and non-finite weights with the errors a directory gets', async () => {
      const before = tf.memory().numTensors;
      const same = async (name: string, damage: (files: Map<string, Uint8Array>) => void, options: { optimizer?: boolean } = {}) => {
        const dir = join(root, `memory-${name}`);
        const { model, optimizer, contents } = trained();
        const files = await checkpointFiles(contents);
        model.dispose();
        optimizer.dispose();
        damage(files);
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        for (const [file, bytes] of files) await writeFile(join(dir, file), bytes);
        const fromDir = await refusal(loadCheckpoint(dir, options));
        const fromMemory = await refusal(loadCheckpointFiles(files, { ...options, name: dir }));
        expect(fromMemory).toEqual(fromDir);
        return fromMemory;
      };
      const flipped = await same('flipped', (files) => {
        const bytes = files.get('weights.safetensors')!;
        bytes[bytes.length - 5] ^= 0x01;
      });
      expect(flipped.code).toBe('E_CHECKPOINT');
      expect(flipped.message).toMatch(/: weights\.safetensors is corrupt: its SHA-256 differs from the one config\.json recorded\. The checkpoint is damaged/);

      const moments = await same(
        'moments',
        (files) => {
          const bytes = files.get('optimizer.safetensors')!;
          bytes[100] ^= 0x80;
        },
        { optimizer: true },
      );
      expect(moments.message).toMatch(/optimizer\.safetensors is corrupt/);

      const missing = await same('missing', (files) => files.delete('tokenizer.json'));
      expect(missing.message).toMatch(/is missing tokenizer\.json, which its config\.json lists/);

      const noConfig = await same('no-config', (files) => files.delete('config.json'));
      expect(noConfig.message).toMatch(/is missing config\.json\. Give a directory written by shiftmix/);

      const nan = await same('nan', (files) => {
        const { tensors, metadata } = decodeSafetensors(files.get('weights.safetensors')!);
        (tensors['blocks.0.ffn.w1'].data as Float32Array)[2] = Number.NaN;
        files.set('weights.safetensors', encodeSafetensors(tensors, metadata));
        // config.json's record rewritten to match, as a tool that saved a diverged model would.
        const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
        const bytes = files.get('weights.safetensors')!;
        config.files['weights.safetensors'] = { bytes: bytes.byteLength, sha256: createHashSync(bytes) };
        files.set('config.json', new TextEncoder().encode(JSON.stringify(config)));
      });
      expect(nan.code).toBe('E_CHECKPOINT_NONFINITE');
      expect(nan.message).toMatch(/weights\.safetensors tensor "blocks\.0\.ffn\.w1" holds NaN \(1 of \d+ values are not finite, the first at index 2\)/);

      const version = await same('version', (files) => {
        const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
        config.formatVersion = 2;
        files.set('config.json', new TextEncoder().encode(JSON.stringify(config)));
      });
      expect(version.code).toBe('E_CHECKPOINT_VERSION');
      expect(tf.memory().numTensors).toBe(before);
    });

    it('refuses to give the files of weights that are not finite', async () => {
      const { model, optimizer, contents } = trained();
      const w = model.weights().get('wte')!;
      w.assign(tf.tidy(() => tf.div(w, 0)));
      const giving = checkpointFiles(contents);
      await expect(giving).rejects.toThrow(/tensor "wte" holds -?(Infinity|NaN) .*so the checkpoint was not written/);
      await expect(giving).rejects.toMatchObject({ code: 'E_NONFINITE_WEIGHTS' });
      model.dispose();
      optimizer.dispose();
    });

    it('reaches no Node module: the in-memory modules import none, directly or through core', async () => {
      // Follows the static imports of encode.ts and decode.ts through core's sources; a
      // browser or web worker that imports them must never need node:fs or node:crypto.
      const { readFileSync } = await import('node:fs');
      const { dirname, resolve } = await import('node:path');
      const seen = new Set<string>();
      const nodeImports: string[] = [];
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const source = readFileSync(file, 'utf8');
        for (const [, specifier] of source.matchAll(/^(?:import|export)\s(?!type\b)(?:[^'"]*?from\s+)?'([^']+)'/gm)) {
          if (specifier.startsWith('node:') || ['fs', 'path', 'crypto', 'os', 'worker_threads'].includes(specifier)) nodeImports.push(`${file}: ${specifier}`);
          else if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
        }
      };
      const here = dirname(new URL(import.meta.url).pathname);
      visit(resolve(here, 'encode.ts'));
      visit(resolve(here, 'decode.ts'));
      expect(seen.size).toBeGreaterThan(10);
      expect(nodeImports).toEqual([]);
    });
  });
});
