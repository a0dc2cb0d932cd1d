import { ShiftmixError } from '../errors.js';
import type { CharTokenizerJSON, Tokenizer } from './types.js';

export type { CharTokenizerJSON } from './types.js';

function codePointLabel(ch: string): string {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(ch)} (U+${hex})`;
}

/**
 * Character-level tokenizer: one token per Unicode code point of the training text,
 * ids in code point order, so the same text always gives the same vocabulary.
 */
export class CharTokenizer implements Tokenizer {
  readonly type = 'char' as const;
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  private constructor(chars: string[]) {
    this.chars = Object.freeze([...chars]);
    this.ids = new Map(chars.map((ch, id) => [ch, id]));
  }

  /** The vocabulary of every distinct character in `text`. */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string' || text.length === 0) {
      throw new ShiftmixError('cannot build a character vocabulary from empty text', 'Pass the training text', 'E_TOKENIZER');
    }
    const chars = [...new Set(text)].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
    return new CharTokenizer(chars);
  }

  /** Rebuilds a tokenizer from `toJSON()` output, checking it thoroughly. */
  static fromJSON(json: unknown): CharTokenizer {
    const fail = (problem: string): never => {
      throw new ShiftmixError(
        `invalid tokenizer JSON: ${problem}`,
        'Use the tokenizer.json saved with the model, or rebuild it with CharTokenizer.fromText',
        'E_TOKENIZER',
      );
    };
    if (typeof json !== 'object' || json === null) fail('it is not an object');
    const data = json as Partial<CharTokenizerJSON>;
    if (data.type !== 'char') fail(`type is ${JSON.stringify(data.type)}, expected "char"`);
    if (data.version !== 1) fail(`version ${JSON.stringify(data.version)} is not supported (this library reads version 1)`);
    if (!Array.isArray(data.chars) || data.chars.length === 0) fail('chars must be a non-empty array');
    const seen = new Set<string>();
    (data.chars as unknown[]).forEach((ch, id) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) fail(`chars[${id}] is ${JSON.stringify(ch)}, not a single character`);
      if (seen.has(ch as string)) fail(`character ${codePointLabel(ch as string)} appears twice`);
      seen.add(ch as string);
    });
    return new CharTokenizer(data.chars as string[]);
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  get label(): string {
    return `char (${this.vocabSize.toLocaleString('en-US')} characters)`;
  }

  /** Text -> token ids; characters outside the vocabulary are an error that names them. */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let n = 0;
    const unknown = new Set<string>();
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) unknown.add(ch);
      else out[n++] = id;
    }
    if (unknown.size > 0) {
      const listed = [...unknown].slice(0, 8).map(codePointLabel).join(', ');
      throw new ShiftmixError(
        `the text has ${unknown.size} character(s) the tokenizer does not know: ${listed}${unknown.size > 8 ? ', ...' : ''}`,
        'Use only characters that occur in the training text, or train on text that contains them',
        'E_UNKNOWN_CHAR',
      );
    }
    // Astral characters take two UTF-16 units but one token, so the array may be shorter.
    return n === out.length ? out : out.slice(0, n);
  }

  /** Token ids -> text. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]];
      if (ch === undefined) {
        throw new ShiftmixError(
          `token id ${ids[i]} is outside the vocabulary of ${this.vocabSize} characters`,
          'Decode ids produced by this tokenizer, or load the tokenizer saved with the model',
          'E_TOKENIZER',
        );
      }
      text += ch;
    }
    return text;
  }

  toJSON(): CharTokenizerJSON {
    return { type: 'char', version: 1, chars: [...this.chars] };
  }
}
