import { languageModelTask } from './language-model.js';

/**
 * Subword language modelling: the same text with GPT-2's BPE (nanoGPT's shakespeare
 * dataset). A mixer that sees the last few characters does well on characters; here a token
 * is about three of them, so it is a test of the longer range. The headline is in bits per
 * byte, which compares with lm-char's.
 */
export const lmBpeTask = languageModelTask({ name: 'lm-bpe', tokenizer: 'gpt2', unit: 'token', headline: 'bestValBpb' });
