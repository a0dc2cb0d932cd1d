import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from './decoder.js';
import { generate } from './generate.js';
import { parseManifest } from './manifest.js';
import { DemoError } from './protocol.js';
import { Gpt2Tokenizer, HfTokenizer, Rng, sampleToken, TokenTextStream } from '@shiftmix/core/text';
import { byteLevelBpeJson } from '@shiftmix/core/testing';
import { openSession } from './session.js';
import { TEXT, fullLogits, setup, tinyExport, type TinyExport } from './test-models.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function decoderFor(model: TinyExport, manifestText = model.manifestText): Promise<Decoder> {
  const manifest = await parseManifest(manifestText, 'tiny');
  const { session } = await openSession(model.decode, manifest, 'wasm');
  return new Decoder(session, manifest);
}

const stacks: [string, string, number][] = [
  ['attention (KV cache, learned positions)', 'softmax-attention*2', 8],
  ['learned-fusion (shift rings, no positions)', 'learned-fusion*3', 8],
];

beforeAll(setup);

describe.each(stacks)('decoding %s', (_label, layers, context) => {
  let model: TinyExport;
  beforeAll(async () => {
    model = await tinyExport(layers, context);
  });

  it('gives the full graph logits at every position, again after a reset', async () => {
    const decoder = await decoderFor(model);
    const ids = [...TEXT].slice(0, context).map((ch) => decoder.manifest.tokenizer.encode(ch)[0]);
    const reference = await fullLogits(model.full, ids);
    for (let round = 0; round < 2; round++) {
      decoder.reset();
      for (let t = 0; t < ids.length; t++) {
        expect(decoder.position).toBe(t);
        expect(maxAbsDiff(await decoder.step(ids[t]), reference[t])).toBeLessThan(1e-4);
      }
    }
  });

  it('records the time of every step and the state it carries: growing KV caches, constant shift rings', async () => {
    const decoder = await decoderFor(model);
    const prompt = Array.from(decoder.manifest.tokenizer.encode('To'));
    const result = await generate(decoder, prompt, { maxTokens: context - 3, temperature: 0, topK: 0, seed: 1, timings: true });
    const { stepMs, stateBytes } = result.stats;
    expect(stepMs).toHaveLength(context - 1);
    expect(stateBytes).toHaveLength(context - 1);
    expect(stepMs!.every((ms) => ms >= 0)).toBe(true);
    const grows = stateBytes!.slice(1).every((b, i) => b > stateBytes![i]);
    const constant = stateBytes!.every((b) => b === stateBytes![0]);
    // Attention keeps one key and one value row per position and layer; a shift ring a fixed window.
    expect(layers.includes('attention') ? grows : constant).toBe(true);
    if (layers.includes('attention')) expect(stateBytes![5] - stateBytes![4]).toBe(2 * 2 * 16 * 4);
    decoder.dispose();
  });

  it('samples past the context like a naive loop over the full graph', async () => {
    const decoder = await decoderFor(model);
    const max = decoder.manifest.maxSequenceLength;
    const prompt = Array.from(decoder.manifest.tokenizer.encode('To be'));
    const steps = 3 * context + 1;
    const sampling = { temperature: 1, topK: 0, seed: 9 };
    const result = await generate(decoder, prompt, { maxTokens: steps, ...sampling });
    // The reference sees the same window: when the context is full, the last half stays.
    const rng = new Rng(sampling.seed);
    let window = [...prompt];
    let restarts = 0;
    const expected: number[] = [];
    for (let i = 0; i < steps; i++) {
      const logits = await fullLogits(model.full, window);
      const id = sampleToken(logits[logits.length - 1], sampling, rng);
      expected.push(id);
      if (max !== null && window.length === max) {
        window = window.slice(-Math.floor(max / 2));
        restarts++;
      }
      window.push(id);
    }
    expect(result.ids).toEqual(expected);
    expect(result.stats.generatedTokens).toBe(steps);
    expect(result.stats.restarts).toBe(restarts);
    expect(restarts > 0).toBe(max !== null);
  });
});

describe('mismatched files', () => {
  let gpt: TinyExport;
  let fusion: TinyExport;
  beforeAll(async () => {
    gpt = await tinyExport('softmax-attention*2', 8);
    fusion = await tinyExport('learned-fusion*2', 8);
  });

  it('rejects a decode.onnx that lacks the state model.json names', async () => {
    const manifest = await parseManifest(gpt.manifestText, 'gpt');
    const { session } = await openSession(fusion.decode, manifest, 'wasm');
    expect(() => new Decoder(session, manifest)).toThrow(expect.objectContaining({ code: 'E_MODEL_MISMATCH' }));
    await session.release();
  });

  it('stops with a vocabulary message when the logits do not fit the tokenizer', async () => {
    const json = JSON.parse(gpt.manifestText);
    json.tokenizer.chars = json.tokenizer.chars.slice(0, -2);
    json.vocabSize -= 2;
    const decoder = await decoderFor(gpt, JSON.stringify(json));
    const error = await decoder.step(0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DemoError);
    expect((error as DemoError).code).toBe('E_VOCAB_MISMATCH');
    expect((error as DemoError).problem).toContain(`tokenizer has ${json.vocabSize} tokens`);
  });

  it.each([
    ['GPT-2', () => Gpt2Tokenizer.load()],
    ["a user's tokenizer.json", () => HfTokenizer.create(byteLevelBpeJson(TEXT.repeat(4), 12), { source: 'tokenizer.json' })],
  ])("samples a %s-tokenized export to the text core's generate gives in Node for the same seed", async (_name, make) => {
    const tokenizer = await make();
    const sample = { prompt: 'ROMEO: 😀', maxTokens: 12, temperature: 1, topK: 0, seed: 5 };
    const exported = await tinyExport('hsm-ab*2', 8, 3, { tokenizer, sample });
    const manifest = await parseManifest(exported.manifestText, 'subwords');
    expect(manifest.tokenizer.type).toBe(tokenizer.type);
    const { session } = await openSession(exported.decode, manifest, 'wasm');
    const decoder = new Decoder(session, manifest);
    const result = await generate(decoder, Array.from(manifest.tokenizer.encode(sample.prompt)), sample);
    const stream = new TokenTextStream(manifest.tokenizer);
    const text = result.ids.map((id) => stream.push(id)).join('') + stream.flush();
    expect(result.ids).toHaveLength(sample.maxTokens);
    expect(text).toBe(exported.nodeText);
    decoder.dispose();
  });

  it('names a file that is not an ONNX model, and one onnxruntime cannot parse', async () => {
    const manifest = await parseManifest(gpt.manifestText, 'gpt');
    const json = new TextEncoder().encode('{"not": "onnx"}');
    await expect(openSession(json, manifest, 'wasm')).rejects.toMatchObject({ code: 'E_BAD_MODEL', problem: expect.stringContaining('not an ONNX model') });
    const truncated = gpt.decode.slice(0, 200);
    await expect(openSession(truncated, manifest, 'auto')).rejects.toMatchObject({ code: 'E_BAD_MODEL' });
  });

  it('refuses WebGPU when asked for it where there is none, and falls back on auto', async () => {
    const manifest = await parseManifest(gpt.manifestText, 'gpt');
    await expect(openSession(gpt.decode, manifest, 'webgpu')).rejects.toMatchObject({ code: 'E_NO_WEBGPU' });
    const opened = await openSession(gpt.decode, manifest, 'auto');
    expect(opened.provider).toBe('wasm');
    expect(opened.fallbackReason).toMatch(/WebGPU/);
    expect(opened.session).toBeInstanceOf(ort.InferenceSession);
    await opened.session.release();
  });
});
