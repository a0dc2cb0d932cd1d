import type { Tokenizer } from '../tokenizer/types.js';

// Encodes a corpus in pieces of about a megabyte, so progress can be shown and no single
// encode call holds a whole corpus's intermediate arrays. A piece ends just before a newline
// that follows a non-space character: GPT-2's pre-tokenizer splits there anyway, so the ids
// equal those of encoding the whole text at once (tested on Tiny Shakespeare).

const PIECE = 1 << 20;

/** Cut points of `text` into pieces of about PIECE characters, each before a "\n" after a non-space. */
export function pieceEnds(text: string): number[] {
  const ends: number[] = [];
  let from = 0;
  while (text.length - from > PIECE) {
    let cut = text.indexOf('\n', from + PIECE);
    while (cut !== -1 && /\s/.test(text[cut - 1])) cut = text.indexOf('\n', cut + 1);
    if (cut === -1) break;
    ends.push(cut);
    from = cut;
  }
  ends.push(text.length);
  return ends;
}

/** A growable Int32Array. */
class Ids {
  private data = new Int32Array(1 << 16);
  length = 0;

  push(ids: ArrayLike<number>): void {
    if (this.length + ids.length > this.data.length) {
      const bigger = new Int32Array(Math.max(this.data.length * 2, this.length + ids.length));
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(ids, this.length);
    this.length += ids.length;
  }

  take(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * The token stream of `documents` in order, separated by the tokenizer's end-of-text token
 * (or the ids of a newline where it has none), and the UTF-8 bytes of their text.
 */
export function encodeDocuments(
  tokenizer: Tokenizer,
  documents: { text: string }[],
  onProgress?: (done: number, total: number) => void,
): { ids: Int32Array; bytes: number } {
  const encoder = new TextEncoder();
  const total = documents.reduce((sum, d) => sum + d.text.length, 0);
  const separator = documents.length > 1 ? (tokenizer.endOfText !== undefined ? [tokenizer.endOfText] : tokenizer.encode('\n')) : [];
  const ids = new Ids();
  let bytes = 0;
  let done = 0;
  documents.forEach((document, index) => {
    if (index > 0) ids.push(separator);
    let from = 0;
    for (const end of pieceEnds(document.text)) {
      const piece = document.text.slice(from, end);
      ids.push(tokenizer.encode(piece));
      bytes += encoder.encode(piece).length;
      done += piece.length;
      from = end;
      onProgress?.(done, total);
    }
  });
  return { ids: ids.take(), bytes };
}
