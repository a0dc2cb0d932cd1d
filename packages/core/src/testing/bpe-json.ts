// A small byte-level BPE tokenizer.json in Hugging Face's format, trained greedily on a
// sample text: a real tokenizer.json of a user's own, made in a test without downloading
// one. The byte alphabet is GPT-2's (printable bytes stand for themselves, the others are
// moved above U+0100), so the tokenizer round-trips any UTF-8 text.

function byteAlphabet(): string[] {
  const kept: number[] = [];
  for (let b = 33; b <= 126; b++) kept.push(b);
  for (let b = 161; b <= 172; b++) kept.push(b);
  for (let b = 174; b <= 255; b++) kept.push(b);
  const chars: string[] = new Array(256);
  let moved = 0;
  for (let b = 0; b < 256; b++) chars[b] = kept.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + moved++);
  return chars;
}

/**
 * tokenizer.json of a byte-level BPE with `merges` merges learned from `text` (the most
 * frequent adjacent pair, within words as GPT-2 splits them roughly: a space starts a word),
 * and "<|endoftext|>" as its last, special token.
 */
export function byteLevelBpeJson(text: string, merges = 64): Record<string, unknown> {
  const alphabet = byteAlphabet();
  const encoder = new TextEncoder();
  const words = (text.match(/ ?[^\s]+|\s+/g) ?? []).map((word) => [...encoder.encode(word)].map((b) => alphabet[b]));
  const vocab: Record<string, number> = {};
  alphabet.forEach((ch, id) => (vocab[ch] = id));
  const learned: string[] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const word of words)
      for (let i = 0; i + 1 < word.length; i++) counts.set(`${word[i]} ${word[i + 1]}`, (counts.get(`${word[i]} ${word[i + 1]}`) ?? 0) + 1);
    let best = '';
    let bestCount = 1;
    for (const [pair, count] of counts) if (count > bestCount || (count === bestCount && best !== '' && pair < best)) [best, bestCount] = [pair, count];
    if (best === '') break;
    const [a, b] = best.split(' ');
    learned.push(best);
    vocab[a + b] = Object.keys(vocab).length;
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) if (word[i] === a && word[i + 1] === b) word.splice(i, 2, a + b);
    }
  }
  const eot = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = eot;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: learned,
    },
  };
}
