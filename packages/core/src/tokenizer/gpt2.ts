import { ShiftmixError } from '../errors.js';
import { checkedIds } from './ids.js';
import type { Gpt2TokenizerJSON, Tokenizer } from './types.js';

// GPT-2's byte-level BPE through js-tiktoken, whose merges ship inside the package: nothing
// is downloaded. Loaded on first use (half a megabyte of merges), so code that only ever
// uses characters never pays for it, in Node or in a page's bundle.

/** The package that implements the encoding, recorded in the tokenizer's JSON. */
const IMPLEMENTATION = 'js-tiktoken';
const VOCAB_SIZE = 50257;
const END_OF_TEXT = 50256;

interface Encoder {
  encode(text: string, allowedSpecial?: string[] | 'all', disallowedSpecial?: string[] | 'all'): number[];
  decode(tokens: number[]): string;
}

let encoder: Promise<Encoder> | undefined;

function loadEncoder(): Promise<Encoder> {
  encoder ??= (async () => {
    const [{ Tiktoken }, ranks] = await Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/gpt2')]);
    return new Tiktoken(ranks.default) as Encoder;
  })();
  return encoder;
}

export class Gpt2Tokenizer implements Tokenizer {
  readonly type = 'gpt2' as const;
  readonly vocabSize = VOCAB_SIZE;
  readonly endOfText = END_OF_TEXT;
  readonly label = `gpt2 (${VOCAB_SIZE.toLocaleString('en-US')} tokens)`;

  private constructor(private readonly bpe: Encoder) {}

  /** GPT-2's tokenizer, once its merges are loaded. */
  static async load(): Promise<Gpt2Tokenizer> {
    return new Gpt2Tokenizer(await loadEncoder());
  }

  /** Checks a saved Gpt2TokenizerJSON and loads the tokenizer it names. */
  static async fromJSON(json: Partial<Gpt2TokenizerJSON>): Promise<Gpt2Tokenizer> {
    if (json.version !== 1 || json.encoding !== 'gpt2') {
      throw new ShiftmixError(
        `the saved tokenizer is GPT-2's in an unknown form (version ${JSON.stringify(json.version)}, encoding ${JSON.stringify(json.encoding)})`,
        'Use the tokenizer.json saved with the model by this version of shiftmix, or train again with --tokenizer gpt2',
        'E_TOKENIZER',
      );
    }
    return Gpt2Tokenizer.load();
  }

  /** Special tokens written in the text ("<|endoftext|>") are ordinary text here, as data must not inject them. */
  encode(text: string): Int32Array {
    return Int32Array.from(this.bpe.encode(text, [], []));
  }

  decode(ids: ArrayLike<number>): string {
    const list = checkedIds(ids, this.vocabSize, `GPT-2's vocabulary of ${VOCAB_SIZE} tokens`);
    return this.bpe.decode(list);
  }

  toJSON(): Gpt2TokenizerJSON {
    return { type: 'gpt2', version: 1, encoding: 'gpt2', implementation: IMPLEMENTATION };
  }
}
