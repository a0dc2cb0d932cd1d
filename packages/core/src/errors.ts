/**
 * Every error the library raises on bad input says what is wrong and how to fix it.
 * `problem` and `fix` are kept apart so a CLI can print them on one line and a caller
 * can match on `code`.
 */
export class ShiftmixError extends Error {
  readonly code: string;
  readonly problem: string;
  readonly fix: string;

  constructor(problem: string, fix: string, code = 'E_SHIFTMIX') {
    super(fix ? `${problem}. ${fix}` : problem);
    this.name = 'ShiftmixError';
    this.code = code;
    this.problem = problem;
    this.fix = fix;
  }
}

export function isShiftmixError(error: unknown): error is ShiftmixError {
  return error instanceof Error && error.name === 'ShiftmixError' && 'fix' in error;
}
