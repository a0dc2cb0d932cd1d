import { DemoError } from './protocol.js';

function label(ch: string): string {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(ch)} (U+${hex})`;
}

/**
 * The character tokenizer of an exported model (the manifest's `tokenizer`, as
 * shiftmix writes it: `{ type: "char", version: 1, chars }`, one code point per id).
 */
export class CharTokenizer {
  private readonly ids: Map<string, number>;

  private constructor(readonly chars: readonly string[]) {
    this.ids = new Map(chars.map((ch, id) => [ch, id]));
  }

  static fromJSON(json: unknown): CharTokenizer {
    const bad = (problem: string): never => {
      throw new DemoError(`model.json has an unusable tokenizer: ${problem}`, 'Export the model again with shiftmix export, which stores the tokenizer it was trained with', 'E_TOKENIZER');
    };
    if (typeof json !== 'object' || json === null) bad('it is missing');
    const data = json as { type?: unknown; version?: unknown; chars?: unknown };
    if (data.type !== 'char') bad(`type is ${JSON.stringify(data.type)}, this demo reads "char" tokenizers`);
    if (data.version !== 1) bad(`version ${JSON.stringify(data.version)} is not supported (version 1 is)`);
    if (!Array.isArray(data.chars) || data.chars.length === 0) bad('chars must be a non-empty array');
    const chars = data.chars as unknown[];
    const seen = new Set<string>();
    chars.forEach((ch, id) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) bad(`chars[${id}] is ${JSON.stringify(ch)}, not one character`);
      if (seen.has(ch as string)) bad(`character ${label(ch as string)} appears twice`);
      seen.add(ch as string);
    });
    return new CharTokenizer(chars as string[]);
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  /** The characters of `text` this tokenizer has no id for, each once, in order of appearance. */
  unknown(text: string): string[] {
    return [...new Set([...text].filter((ch) => !this.ids.has(ch)))];
  }

  encode(text: string): number[] {
    const missing = this.unknown(text);
    if (missing.length > 0) {
      const listed = missing.slice(0, 8).map(label).join(', ');
      throw new DemoError(
        `the prompt has ${missing.length} character(s) this model's tokenizer does not know: ${listed}${missing.length > 8 ? ', ...' : ''}`,
        'Remove or replace them: the model only knows the characters of its training text',
        'E_UNKNOWN_CHAR',
      );
    }
    return [...text].map((ch) => this.ids.get(ch)!);
  }

  decode(id: number): string {
    const ch = this.chars[id];
    if (ch === undefined) {
      throw new DemoError(`the model produced token ${id}, outside the tokenizer's ${this.vocabSize} characters`, 'The model and its tokenizer do not belong together: export them again', 'E_VOCAB_MISMATCH');
    }
    return ch;
  }
}
