import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { tinyExport, type TinyExport } from './test-models.js';

let gpt: TinyExport;
let fusion: TinyExport;

beforeAll(async () => {
  gpt = await tinyExport('softmax-attention*2', 8);
  fusion = await tinyExport('learned-fusion*2', 8);
});

// The manifest as loose JSON, so that each case can break any field of it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function edited(text: string, edit: (json: Record<string, any>) => void): string {
  const json = JSON.parse(text);
  edit(json);
  return JSON.stringify(json);
}

describe('parseManifest', () => {
  it('reads what shiftmix export writes', async () => {
    const m = await parseManifest(gpt.manifestText, 'gpt');
    expect(m.layers).toBe('softmax-attention*2');
    expect(m.maxSequenceLength).toBe(8);
    expect(m.tokenizer.vocabSize).toBe(m.vocabSize);
    expect(m.state.map((s) => s.input)).toEqual(m.decodeInputs.slice(2));
    expect(m.state[0].initialShape[m.state[0].batchAxis]).toBe(1);
    const f = await parseManifest(fusion.manifestText, 'fusion');
    expect(f.maxSequenceLength).toBeNull();
    expect(f.contextLength).toBe(8);
  });

  it.each([
    ['not JSON', () => '{"format": ', 'E_BAD_MANIFEST', /not valid JSON/],
    ['another format', () => edited(gpt.manifestText, (j) => (j.format = 'other')), 'E_BAD_MANIFEST', /"other"/],
    ['a newer version', () => edited(gpt.manifestText, (j) => (j.formatVersion = 2)), 'E_BAD_MANIFEST', /formatVersion 2/],
    ['a broken state entry', () => edited(gpt.manifestText, (j) => (j.state[1].batchAxis = 9)), 'E_BAD_MANIFEST', /state\[1\]/],
    [
      'a tokenizer of another size',
      () => edited(gpt.manifestText, (j) => j.tokenizer.chars.pop()),
      'E_VOCAB_MISMATCH',
      /tokens but the model has a vocabulary of/,
    ],
    [
      'a tokenizer this version cannot restore',
      () => edited(gpt.manifestText, (j) => (j.tokenizer = { type: 'sentencepiece' })),
      'E_BAD_MANIFEST',
      /cannot restore/,
    ],
  ])('explains %s', async (_label, text, code, message) => {
    const error = await parseManifest(text(), 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    expect(String(error)).toMatch(message);
  });
});
