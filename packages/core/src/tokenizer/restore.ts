import { ShiftmixError } from '../errors.js';
import { CharTokenizer } from './char.js';
import { Gpt2Tokenizer } from './gpt2.js';
import { HfTokenizer } from './hf.js';
import type { Tokenizer, TokenizerJSON } from './types.js';

/**
 * Rebuilds the tokenizer a checkpoint's tokenizer.json or an export's model.json holds,
 * exactly: characters from their list, GPT-2 by name, a Hugging Face tokenizer from its
 * whole JSON. `where` names the file in errors. One that cannot be restored is refused.
 */
export async function tokenizerFromJSON(json: unknown, where = 'tokenizer.json'): Promise<Tokenizer> {
  const type = (json as { type?: unknown } | null)?.type;
  try {
    if (type === 'char') return CharTokenizer.fromJSON(json);
    if (type === 'gpt2') return await Gpt2Tokenizer.fromJSON(json as Partial<TokenizerJSON & { type: 'gpt2' }>);
    if (type === 'hf') return await HfTokenizer.fromJSON(json as Partial<TokenizerJSON & { type: 'hf' }>);
  } catch (error) {
    if (error instanceof ShiftmixError && !error.problem.includes(where)) throw new ShiftmixError(`${where}: ${error.problem}`, error.fix, error.code);
    throw error;
  }
  throw new ShiftmixError(
    `${where} holds a tokenizer of type ${JSON.stringify(type)}, which this version of shiftmix cannot restore (it knows char, gpt2 and hf)`,
    'Load the model with the shiftmix version that trained it, or train it again',
    'E_TOKENIZER',
  );
}
