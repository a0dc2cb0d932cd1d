import { ShiftmixError } from '../errors.js';
import { checkedIds } from './ids.js';
import type { HfTokenizerJSON, Tokenizer } from './types.js';

// Any Hugging Face tokenizer.json, through @huggingface/tokenizers (no dependencies, runs in
// Node and in pages). The whole JSON travels with the model (checkpoint and export), so the
// model never depends on a file that may move or change.

interface HfRuntime {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

const FIX = 'Give the tokenizer.json of a Hugging Face tokenizer (saved with tokenizer.save() or from a model repository)';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One more than the largest id of the model's vocabulary and the added tokens. */
function vocabSizeOf(json: Record<string, unknown>, where: string): number {
  const model = json.model as Record<string, unknown>;
  let size = 0;
  const vocab = model.vocab;
  if (Array.isArray(vocab)) size = vocab.length;
  else if (isObject(vocab)) for (const id of Object.values(vocab)) if (typeof id === 'number' && id + 1 > size) size = id + 1;
  for (const added of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    const id = (added as { id?: unknown }).id;
    if (typeof id === 'number' && id + 1 > size) size = id + 1;
  }
  if (!Number.isInteger(size) || size < 2) {
    throw new ShiftmixError(`the tokenizer ${where} has no vocabulary (model.vocab is empty or missing)`, FIX, 'E_TOKENIZER');
  }
  return size;
}

/** The id of a special end-of-text token, when the tokenizer has one under a usual name. */
function endOfTextOf(json: Record<string, unknown>): number | undefined {
  const names = new Set(['<|endoftext|>', '</s>', '<eos>', '[SEP]', '<|end_of_text|>']);
  for (const added of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    const { id, content } = added as { id?: unknown; content?: unknown };
    if (typeof id === 'number' && typeof content === 'string' && names.has(content)) return id;
  }
  return undefined;
}

export class HfTokenizer implements Tokenizer {
  readonly type = 'hf' as const;
  readonly vocabSize: number;
  readonly endOfText?: number;
  readonly label: string;

  private constructor(
    private readonly json: HfTokenizerJSON,
    private readonly runtime: HfRuntime,
  ) {
    const where = json.source ?? 'tokenizer.json';
    this.vocabSize = vocabSizeOf(json.tokenizer, where);
    this.endOfText = endOfTextOf(json.tokenizer);
    this.label = `${where} (${this.vocabSize.toLocaleString('en-US')} tokens)`;
  }

  /**
   * A tokenizer from a parsed tokenizer.json (and tokenizer_config.json). `source` names
   * the file in errors and logs. A JSON that is not a tokenizer is a one-line error.
   */
  static async create(tokenizer: unknown, options: { config?: unknown; source?: string } = {}): Promise<HfTokenizer> {
    const where = options.source ?? 'tokenizer.json';
    if (!isObject(tokenizer) || !isObject(tokenizer.model)) {
      throw new ShiftmixError(`${where} is not a Hugging Face tokenizer (it has no "model" object)`, FIX, 'E_TOKENIZER');
    }
    const config = isObject(options.config) ? options.config : {};
    const { Tokenizer: Runtime } = await import('@huggingface/tokenizers');
    let runtime: HfRuntime;
    try {
      runtime = new Runtime(tokenizer, config) as unknown as HfRuntime;
    } catch (error) {
      throw new ShiftmixError(`${where} cannot be loaded as a tokenizer: ${(error as Error).message}`, FIX, 'E_TOKENIZER');
    }
    const json: HfTokenizerJSON = { type: 'hf', version: 1, tokenizer, config, ...(options.source ? { source: options.source } : {}) };
    return new HfTokenizer(json, runtime);
  }

  /** Checks a saved HfTokenizerJSON and rebuilds the tokenizer it holds. */
  static async fromJSON(json: Partial<HfTokenizerJSON>): Promise<HfTokenizer> {
    if (json.version !== 1 || !isObject(json.tokenizer)) {
      throw new ShiftmixError(
        `the saved Hugging Face tokenizer is damaged or of an unknown version (${JSON.stringify(json.version)})`,
        'Use the tokenizer.json saved with the model, or train again with --tokenizer FILE',
        'E_TOKENIZER',
      );
    }
    return HfTokenizer.create(json.tokenizer, { config: json.config, source: json.source });
  }

  encode(text: string): Int32Array {
    return Int32Array.from(this.runtime.encode(text, { add_special_tokens: false }).ids);
  }

  decode(ids: ArrayLike<number>): string {
    const list = checkedIds(ids, this.vocabSize, `the vocabulary of ${this.label}`);
    return this.runtime.decode(list, { skip_special_tokens: false });
  }

  toJSON(): HfTokenizerJSON {
    return this.json;
  }
}
