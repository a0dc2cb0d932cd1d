// Tokenizers: characters (the default), GPT-2's BPE, and any Hugging Face tokenizer.json,
// behind one interface that the trainer, checkpoints, generation and exports use.
export type { CharTokenizerJSON, Gpt2TokenizerJSON, HfTokenizerJSON, Tokenizer, TokenizerJSON, TokenizerName } from './types.js';
export { TOKENIZER_NAMES } from './types.js';
export { CharTokenizer } from './char.js';
export { Gpt2Tokenizer } from './gpt2.js';
export { HfTokenizer } from './hf.js';
export { tokenizerFromJSON } from './restore.js';
export { TokenTextStream } from './stream.js';
