import type { Tokenizer } from './types.js';

// A byte-level BPE token can end in the middle of a character (an emoji is often two or
// three tokens): decoded alone it is U+FFFD. While generating, such tokens are held back
// until the character completes, so streamed text equals decoding every id at once.

/** Up to this many tokens are held back waiting for a character to complete. */
const HOLD = 8;
const REPLACEMENT = '\uFFFD';

/** Streams the text of generated ids, one id at a time, without splitting characters. */
export class TokenTextStream {
  private pending: number[] = [];

  constructor(private readonly tokenizer: Pick<Tokenizer, 'decode'>) {}

  /** The text that `id` completes (often '' while a character is incomplete). */
  push(id: number): string {
    this.pending.push(id);
    const text = this.tokenizer.decode(this.pending);
    if (text.endsWith(REPLACEMENT) && this.pending.length < HOLD) return '';
    this.pending = [];
    return text;
  }

  /** What is still held back, decoded as it is (with U+FFFD for a cut character). */
  flush(): string {
    const text = this.pending.length > 0 ? this.tokenizer.decode(this.pending) : '';
    this.pending = [];
    return text;
  }
}
