import { isShiftmixError } from '@shiftmix/core';

/** Exit codes: 1 for bad input or a failed run, 2 for a command line that does not parse. */
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/**
 * A command line that does not parse: unknown command or flag, a missing or malformed
 * value. Shaped like ShiftmixError (problem + fix) so both print the same way.
 */
export class UsageError extends Error {
  readonly problem: string;
  readonly fix: string;

  constructor(problem: string, fix: string) {
    super(`${problem}. ${fix}`);
    this.name = 'UsageError';
    this.problem = problem;
    this.fix = fix;
  }
}

/** Bad input found by the CLI itself (files, plugins, checkpoints), printed like a ShiftmixError. */
export class InputError extends Error {
  readonly problem: string;
  readonly fix: string;

  constructor(problem: string, fix: string) {
    super(`${problem}. ${fix}`);
    this.name = 'InputError';
    this.problem = problem;
    this.fix = fix;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function joinProblemFix(problem: string, fix: string): string {
  const p = oneLine(problem).replace(/[.\s]+$/, '');
  const f = oneLine(fix);
  return f ? `${p}. ${f}` : p;
}

/**
 * The core's fix for an unknown mixer speaks to library users (registerMixer); on the
 * command line a mixer comes from a plugin instead.
 */
function cliMixerFix(fix: string): string {
  const known = /^Registered mixers: ([^.]*)\./.exec(fix);
  const load = 'Load other mixers with --plugin MODULE, a shiftmix.config.json, or an installed plugin package';
  return known ? `Registered mixers: ${known[1]}. ${load}` : `No mixers are registered. ${load}`;
}

export interface FormattedError {
  /** Lines for stderr: one, or with --verbose the stack after it. */
  lines: string[];
  exitCode: number;
}

/**
 * Turns anything thrown into what the user sees: one line `shiftmix: <problem>. <fix>`.
 * Errors that are not about the user's input are internal: one line and a pointer to
 * --verbose, which adds the stack.
 */
export function formatError(error: unknown, verbose: boolean): FormattedError {
  const stack = verbose && error instanceof Error && error.stack ? error.stack.split('\n') : [];
  if (error instanceof UsageError) {
    return { lines: [`shiftmix: ${joinProblemFix(error.problem, error.fix)}`, ...stack], exitCode: EXIT_USAGE };
  }
  if (error instanceof InputError || isShiftmixError(error)) {
    const { problem } = error as InputError;
    const fix = isShiftmixError(error) && error.code === 'E_UNKNOWN_MIXER' ? cliMixerFix(error.fix) : error.fix;
    return { lines: [`shiftmix: ${joinProblemFix(problem, fix)}`, ...stack], exitCode: EXIT_ERROR };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const first = oneLine(message).slice(0, 500);
  if (verbose) return { lines: [`shiftmix: internal error: ${first}`, ...stack], exitCode: EXIT_ERROR };
  return { lines: [`shiftmix: internal error: ${first} (run with --verbose for the stack)`], exitCode: EXIT_ERROR };
}
