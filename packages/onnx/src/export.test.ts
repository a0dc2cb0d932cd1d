import { CharTokenizer, ShiftmixError, ShiftmixModel, registerMixer, selectBackend, unregisterMixer } from '@shiftmix/core';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModel } from './check.js';
import { exportModel } from './export.js';
import { measureParity, scrambleWeights } from './test-helpers.js';
import { testOpaque, testShift, testSum } from './test-mixers.js';
import { exportCheckpoint } from './write.js';

const small = { vocabSize: 11, dim: 8, heads: 2, contextLength: 8, seed: 3, ffn: 16 };

beforeAll(async () => {
  await selectBackend('cpu');
  for (const spec of [testShift, testSum, testOpaque]) registerMixer(spec);
});
afterAll(() => {
  for (const spec of [testShift, testSum, testOpaque]) unregisterMixer(spec.name);
});

describe('exportModel', () => {
  it('exports a shift-only stack whose graphs match the tfjs forward and decode token by token', async () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift*3' });
    try {
      expect(model.positional).toBe('none');
      scrambleWeights(model, 1);
      const parity = await measureParity(model, { batch: 2, lengths: [3, 8] });
      for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
      expect(parity.decode).toBeLessThan(1e-4);
      const { manifest } = parity.exported;
      expect(manifest.state.map((s) => s.name)).toEqual(['blocks.0.ring', 'blocks.1.ring', 'blocks.2.ring']);
      const initial = model.initState(1);
      manifest.state.forEach((s, i) => expect(s.initialShape).toEqual(initial.mixers[i].tensors.ring.shape));
      expect(manifest.maxSequenceLength).toBeNull();
    } finally {
      model.dispose();
    }
  });

  it('exports a hybrid with learned positions and a mixer that is not shift-based', async () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift,onnx-test-sum,onnx-test-shift' });
    try {
      expect(model.positional).toBe('learned');
      scrambleWeights(model, 2);
      const parity = await measureParity(model, { batch: 2, lengths: [5, 8], opset: 21 });
      for (const diff of parity.full) expect(diff).toBeLessThan(1e-4);
      expect(parity.decode).toBeLessThan(1e-4);
      const decode = checkModel(parity.exported.decode);
      expect(decode.opsets[0].version).toBe(21);
      expect(decode.graph.inputs.map((v) => v.name)).toEqual(['input_ids', 'position', 'state.blocks.0.ring', 'state.blocks.1.sum', 'state.blocks.2.ring']);
      expect(decode.graph.outputs.map((v) => v.name)).toEqual(['logits', 'next_state.blocks.0.ring', 'next_state.blocks.1.sum', 'next_state.blocks.2.ring']);
      const names = new Set(checkModel(parity.exported.model).graph.initializers.map((t) => t.name));
      for (const name of model.weights().keys()) expect(names.has(name)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('names the mixer that has no ONNX lowering', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift,onnx-test-opaque' });
    try {
      let error: unknown;
      try {
        exportModel(model);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ShiftmixError);
      expect((error as ShiftmixError).code).toBe('E_ONNX_UNSUPPORTED');
      expect((error as ShiftmixError).message).toMatch(/"onnx-test-opaque" \(block 1\)/);
    } finally {
      model.dispose();
    }
  });

  it('rejects opsets it does not write and a tokenizer of another vocabulary', () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift' });
    try {
      expect(() => exportModel(model, { opset: 13 })).toThrow(/opset 13/);
      expect(() => exportModel(model, { tokenizer: CharTokenizer.fromText('abc') })).toThrow(/3 tokens but the model's vocabulary has 11/);
    } finally {
      model.dispose();
    }
  });

  it('writes model.onnx, decode.onnx and a model.json with the tokenizer', async () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift*2' });
    const dir = await mkdtemp(join(tmpdir(), 'shiftmix-onnx-'));
    try {
      const tokenizer = CharTokenizer.fromText('a quick fox!');
      expect(tokenizer.vocabSize).toBe(small.vocabSize);
      const written = await exportCheckpoint(model, tokenizer, dir, { opset: 18 });
      const manifest = JSON.parse(await readFile(written.files.manifest, 'utf8'));
      expect(CharTokenizer.fromJSON(manifest.tokenizer).chars).toEqual(tokenizer.chars);
      expect(manifest.opset).toBe(18);
      expect(manifest.config.layers).toBe('onnx-test-shift*2');
      expect(manifest.state).toHaveLength(2);
      for (const file of [written.files.model, written.files.decode]) {
        expect(checkModel(new Uint8Array(await readFile(file))).opsets[0].version).toBe(18);
      }
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no half-written export when a file cannot be written', async () => {
    const model = ShiftmixModel.create({ ...small, layers: 'onnx-test-shift' });
    const dir = await mkdtemp(join(tmpdir(), 'shiftmix-onnx-'));
    try {
      // decode.onnx's staging path is taken by a folder, so writing the second file fails.
      await mkdir(join(dir, 'decode.onnx.partial'));
      const failed = exportCheckpoint(model, CharTokenizer.fromText('a quick fox!'), dir);
      await expect(failed).rejects.toThrow(/cannot write the ONNX export to .*EISDIR.*\. Choose a writable output directory/);
      await expect(failed).rejects.toMatchObject({ code: 'E_IO' });
      expect((await readdir(dir)).sort()).toEqual(['decode.onnx.partial']);
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
