/** The kinds of recipe field every task may use; a task checks other forms with a `FieldCheck`. */
export type FieldKind = 'positiveInt' | 'nonNegativeInt' | 'positive' | 'nonNegative' | 'fraction' | 'positiveIntList' | 'positiveOrList';

/** A field of a form of the task's own (MQAR's settings, lm-char's layer patterns). */
export interface FieldCheck {
  /** What a value must be, as errors say it: "a non-empty list of ...". */
  expected: string;
  test(value: unknown): boolean;
}

/** How a recipe field is checked. */
export type FieldSpec = FieldKind | FieldCheck;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
export const isPositiveInt = (x: unknown): x is number => num(x) && Number.isInteger(x) && x > 0;

const KINDS: Record<FieldKind, FieldCheck> = {
  positiveInt: { expected: 'a positive integer', test: isPositiveInt },
  nonNegativeInt: { expected: 'an integer >= 0', test: (v) => num(v) && Number.isInteger(v) && v >= 0 },
  positive: { expected: 'a number > 0', test: (v) => num(v) && v > 0 },
  nonNegative: { expected: 'a number >= 0', test: (v) => num(v) && v >= 0 },
  fraction: { expected: 'a number in [0, 1)', test: (v) => num(v) && v >= 0 && v < 1 },
  positiveIntList: { expected: 'a non-empty list of positive integers', test: (v) => Array.isArray(v) && v.length > 0 && v.every(isPositiveInt) },
  positiveOrList: {
    expected: 'a number > 0 or a non-empty list of them',
    test: (v) => (num(v) && v > 0) || (Array.isArray(v) && v.length > 0 && v.every((x) => num(x) && x > 0)),
  },
};

/** What is wrong with `value` as a field of this spec, or undefined when nothing is. */
export function fieldProblem(spec: FieldSpec, value: unknown): { problem: string; fix: string } | undefined {
  const check = typeof spec === 'string' ? KINDS[spec] : spec;
  if (check.test(value)) return undefined;
  return { problem: `${JSON.stringify(value)} is not ${check.expected}`, fix: `Give ${check.expected}` };
}
