import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './tokenizer.js';

const json = { type: 'char', version: 1, chars: ['\n', ' ', 'a', 'b', '😀'] };

describe('CharTokenizer', () => {
  it('maps characters to their index in chars and back', () => {
    const t = CharTokenizer.fromJSON(json);
    expect(t.vocabSize).toBe(5);
    const ids = t.encode('ab 😀\n');
    expect(ids).toEqual([2, 3, 1, 4, 0]);
    expect(ids.map((id) => t.decode(id)).join('')).toBe('ab 😀\n');
  });

  it('names the characters of a prompt it does not know', () => {
    const t = CharTokenizer.fromJSON(json);
    expect(t.unknown('abcZc')).toEqual(['c', 'Z']);
    expect(() => t.encode('abcZc')).toThrow(/2 character\(s\).*"c" \(U\+0063\), "Z" \(U\+005A\)/);
    expect(() => t.encode('abcZc')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_CHAR' }));
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => CharTokenizer.fromJSON(json).decode(5)).toThrow(expect.objectContaining({ code: 'E_VOCAB_MISMATCH' }));
  });

  it.each([
    [null, /missing/],
    [{ ...json, type: 'bpe' }, /"bpe"/],
    [{ ...json, version: 2 }, /version 2/],
    [{ ...json, chars: [] }, /non-empty/],
    [{ ...json, chars: ['a', 'ab'] }, /chars\[1\]/],
    [{ ...json, chars: ['a', 'a'] }, /twice/],
  ])('explains a broken tokenizer (%j)', (bad, message) => {
    expect(() => CharTokenizer.fromJSON(bad)).toThrow(message);
  });
});
