/** The JSON form of a tokenizer: what checkpoints store (tokenizer.json) and exports carry (model.json). */
export type TokenizerJSON = CharTokenizerJSON | Gpt2TokenizerJSON | HfTokenizerJSON;

/** Characters: one token per code point of the training text (the default). */
export interface CharTokenizerJSON {
  type: 'char';
  version: 1;
  /** chars[id] is the character (one Unicode code point) of token id. */
  chars: string[];
}

/**
 * GPT-2's byte-level BPE (50,257 tokens), by name: its merges ship inside the package that
 * implements it, so only the name and the package's version are stored.
 */
export interface Gpt2TokenizerJSON {
  type: 'gpt2';
  version: 1;
  /** The encoding's name as tiktoken calls it. */
  encoding: 'gpt2';
  /** The package and version that encoded the data, for the record. */
  implementation?: string;
}

/** A Hugging Face tokenizer: the whole tokenizer.json (and tokenizer_config.json, if given) as the user gave it. */
export interface HfTokenizerJSON {
  type: 'hf';
  version: 1;
  /** The parsed tokenizer.json. */
  tokenizer: Record<string, unknown>;
  /** The parsed tokenizer_config.json, or {}. */
  config: Record<string, unknown>;
  /** Where it came from (a file name), for messages. */
  source?: string;
}

/**
 * What the stack, trainer, checkpoints, generation and exports need of a tokenizer.
 * `decode` is a pure function of its ids: a token that ends inside a multi-byte character
 * decodes to U+FFFD alone, which TokenTextStream holds back while streaming.
 */
export interface Tokenizer {
  readonly type: TokenizerJSON['type'];
  readonly vocabSize: number;
  /** For messages and logs: "gpt2 (50,257 tokens)". */
  readonly label: string;
  /** The id that separates documents when a corpus has several, where the tokenizer has one (GPT-2's <|endoftext|>). */
  readonly endOfText?: number;
  /** Text -> token ids; special tokens written in the text are encoded as text. */
  encode(text: string): Int32Array;
  /** Token ids -> text. */
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

/** The tokenizer names a user can type (`--tokenizer`); anything else is a tokenizer.json file. */
export const TOKENIZER_NAMES = ['char', 'gpt2'] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];
