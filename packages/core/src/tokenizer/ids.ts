import { ShiftmixError } from '../errors.js';

/** `ids` as a plain array once each is a whole number below `vocabSize`; `what` names the vocabulary in the error. */
export function checkedIds(ids: ArrayLike<number>, vocabSize: number, what: string): number[] {
  const list = Array.from(ids);
  for (const id of list) {
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new ShiftmixError(
        `token id ${id} is outside ${what}`,
        'Decode ids produced by this tokenizer, or load the tokenizer saved with the model',
        'E_TOKENIZER',
      );
    }
  }
  return list;
}
