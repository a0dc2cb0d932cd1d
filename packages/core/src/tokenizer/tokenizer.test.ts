import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocuments } from '../data/encode.js';
import { byteLevelBpeJson } from '../testing/bpe-json.js';
import { CharTokenizer } from './char.js';
import { Gpt2Tokenizer } from './gpt2.js';
import { HfTokenizer } from './hf.js';
import { loadTokenizer } from './load.js';
import { tokenizerFromJSON } from './restore.js';
import { TokenTextStream } from './stream.js';
import type { Tokenizer } from './types.js';

const shakespeare = readFileSync(new URL('../../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8');
const tricky = 'First Citizen:\nhéllo wörld 😀 日本語 <|endoftext|>  two  spaces\n\n';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shiftmix-tok-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Streams `ids` through TokenTextStream as generation does: pieces never cut a character. */
function streamed(tokenizer: Tokenizer, ids: ArrayLike<number>): string[] {
  const stream = new TokenTextStream(tokenizer);
  const pieces = Array.from(ids, (id) => stream.push(id));
  pieces.push(stream.flush());
  return pieces;
}

describe('Gpt2Tokenizer', () => {
  it("gives GPT-2's ids and the Tiny Shakespeare token count nanoGPT reports (338,025)", async () => {
    const gpt2 = await Gpt2Tokenizer.load();
    expect(Array.from(gpt2.encode('Hello world'))).toEqual([15496, 995]);
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.encode(shakespeare).length).toBe(338025);
  });

  it('round-trips any text, encodes special tokens written in text as text, and decodes purely', async () => {
    const gpt2 = await Gpt2Tokenizer.load();
    const ids = gpt2.encode(tricky);
    expect(gpt2.decode(ids)).toBe(tricky);
    expect(Array.from(ids)).not.toContain(50256);
    // The emoji's first token alone is a cut character, whatever was decoded before.
    const emoji = gpt2.encode(' 😀');
    expect(emoji.length).toBeGreaterThan(1);
    expect(gpt2.decode([emoji[0]])).toContain('\uFFFD');
    expect(gpt2.decode([emoji[0]])).toContain('\uFFFD');
    expect(() => gpt2.decode([50257])).toThrow(/outside GPT-2's vocabulary/);
  });

  it('streams generated ids without cutting characters', async () => {
    const gpt2 = await Gpt2Tokenizer.load();
    const pieces = streamed(gpt2, gpt2.encode(tricky));
    expect(pieces.join('')).toBe(tricky);
    for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
  });

  it('encodes a corpus piece by piece to the same ids as the whole text at once', async () => {
    const gpt2 = await Gpt2Tokenizer.load();
    const text = shakespeare.repeat(2);
    const { ids, bytes } = encodeDocuments(gpt2, [{ text }]);
    expect(ids).toEqual(gpt2.encode(text));
    expect(bytes).toBe(Buffer.byteLength(text));
  });
});

describe('HfTokenizer', () => {
  const json = byteLevelBpeJson(shakespeare.slice(0, 20000), 80);

  it('loads a tokenizer.json, round-trips text and knows its vocabulary and end-of-text token', async () => {
    const hf = await HfTokenizer.create(json, { source: 'mine.json' });
    expect(hf.vocabSize).toBe(256 + 80 + 1);
    expect(hf.endOfText).toBe(256 + 80);
    const text = 'héllo 😀 the king';
    const ids = hf.encode(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length);
    expect(hf.decode(ids)).toBe(text);
    expect(streamed(hf, ids).join('')).toBe(text);
    expect(hf.label).toBe('mine.json (337 tokens)');
  });

  it('restores exactly from its JSON, and from a file on disk', async () => {
    const file = join(dir, 'tokenizer.json');
    await writeFile(file, JSON.stringify(json));
    const loaded = await loadTokenizer(file);
    const restored = await tokenizerFromJSON(JSON.parse(JSON.stringify(loaded.toJSON())));
    const sample = shakespeare.slice(30000, 32000);
    expect(restored.type).toBe('hf');
    expect(restored.encode(sample)).toEqual(loaded.encode(sample));
    expect(restored.vocabSize).toBe(loaded.vocabSize);
  });
});

describe('tokenizers from names, files and saved JSON', () => {
  it('restores each kind exactly from its JSON', async () => {
    const tokenizers: Tokenizer[] = [
      CharTokenizer.fromText(shakespeare),
      await Gpt2Tokenizer.load(),
      await HfTokenizer.create(byteLevelBpeJson(shakespeare.slice(0, 5000), 20)),
    ];
    const sample = shakespeare.slice(1000, 3000);
    for (const tokenizer of tokenizers) {
      const restored = await tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
      expect(restored.constructor).toBe(tokenizer.constructor);
      expect(restored.encode(sample)).toEqual(tokenizer.encode(sample));
    }
  });

  it('refuses what it cannot restore or load, in one line naming the problem and the fix', async () => {
    const bad = join(dir, 'broken.json');
    await writeFile(bad, '{"model": ');
    const notTokenizer = join(dir, 'other.json');
    await writeFile(notTokenizer, '{"hello": 1}');
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => loadTokenizer('gpt3'), /unknown tokenizer "gpt3"\. Use one of char, gpt2, or the path of a Hugging Face tokenizer\.json/],
      [() => loadTokenizer(join(dir, 'missing.json')), /tokenizer file .*missing\.json" does not exist/],
      [() => loadTokenizer(bad), /broken\.json" is not valid JSON/],
      [() => loadTokenizer(notTokenizer), /other\.json is not a Hugging Face tokenizer \(it has no "model" object\)/],
      [
        () => tokenizerFromJSON({ type: 'sentencepiece' }, 'ckpt/tokenizer.json'),
        /ckpt\/tokenizer\.json holds a tokenizer of type "sentencepiece", which this version of shiftmix cannot restore/,
      ],
      [() => tokenizerFromJSON({ type: 'gpt2', version: 2 }), /tokenizer\.json: the saved tokenizer is GPT-2's in an unknown form/],
      [() => tokenizerFromJSON({ type: 'hf', version: 1, tokenizer: { model: { type: 'Nope' } } }), /cannot be loaded as a tokenizer/],
      [() => tokenizerFromJSON({ type: 'char', version: 1, chars: ['a', 'a'] }), /appears twice/],
    ];
    for (const [run, message] of cases) {
      const error = await run().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('\n');
    }
  });
});
