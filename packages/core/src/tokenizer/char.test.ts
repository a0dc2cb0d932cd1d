import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char.js';

describe('CharTokenizer', () => {
  const text = 'To be, or not to be: that is the question.\nÆ 😀!';

  it('round-trips text, with ids in code point order', () => {
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocabSize).toBe(new Set(Array.from(text)).size);
    const codes = tok.chars.map((c) => c.codePointAt(0) ?? 0);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    const ids = tok.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(Array.from(text).length);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.chars[ids[0]]).toBe('T');
  });

  it('survives JSON and rejects broken JSON', () => {
    const tok = CharTokenizer.fromText(text);
    const back = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(back.chars).toEqual(tok.chars);
    expect(Array.from(back.encode('question'))).toEqual(Array.from(tok.encode('question')));
    expect(() => CharTokenizer.fromJSON(null)).toThrow(/not an object/);
    expect(() => CharTokenizer.fromJSON({ type: 'bpe', version: 1, chars: ['a'] })).toThrow(/type is "bpe"/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', version: 2, chars: ['a'] })).toThrow(/version 2/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', version: 1, chars: [] })).toThrow(/non-empty/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', version: 1, chars: ['a', 'bc'] })).toThrow(/chars\[1\]/);
    expect(() => CharTokenizer.fromJSON({ type: 'char', version: 1, chars: ['a', 'a'] })).toThrow(/appears twice/);
  });

  it('names unknown characters when encoding and bad ids when decoding', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('abz~')).toThrow(/2 character\(s\).*"z" \(U\+007A\), "~" \(U\+007E\)/);
    expect(() => tok.decode([0, 3])).toThrow(/token id 3 is outside the vocabulary of 3/);
    expect(() => CharTokenizer.fromText('')).toThrow(/empty text/);
  });
});
