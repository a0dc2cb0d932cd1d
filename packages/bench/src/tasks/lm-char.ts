import { languageModelTask, type LanguageModelRecipe } from './language-model.js';

/** lm-char's recipe (nanoGPT's shakespeare-char under the standard preset). */
export type LmCharRecipe = LanguageModelRecipe;

/** Character-level language modelling: nanoGPT's shakespeare-char. */
export const lmCharTask = languageModelTask({ name: 'lm-char', tokenizer: 'char', unit: 'char', headline: 'bestValLoss' });
