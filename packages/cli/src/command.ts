import type { FlagSpecs, FlagValues } from './flags.js';

/** Where a command reads and writes; tests pass their own to run main() in-process. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Directory that relative paths, shiftmix.config.json and node_modules are resolved from. */
  cwd: string;
  /** True when stderr is a terminal, so progress can redraw one line. */
  stderrIsTTY: boolean;
  /** Width of the terminal stderr writes to, when it is one. */
  stderrColumns?: number;
}

export interface CommandContext {
  io: Io;
  verbose: boolean;
}

export interface Command<S extends FlagSpecs = FlagSpecs> {
  name: string;
  /** One line for `shiftmix --help`. */
  summary: string;
  /** Usage line(s) without the leading "shiftmix ". */
  usage: string;
  /** Longer explanation shown in the command's --help. */
  details?: string;
  flags: S;
  examples: string[];
  /** Returns the exit code (0 when omitted). */
  run(flags: FlagValues<S>, ctx: CommandContext): Promise<number | void>;
}

/** Keeps the flag types of a command literal, so `run` sees typed values. */
export function defineCommand<const S extends FlagSpecs>(command: Command<S>): Command<S> {
  return command;
}

/** Flags every command accepts. */
export const COMMON_FLAGS = {
  help: { type: 'boolean', description: 'Show this help' },
  verbose: { type: 'boolean', description: 'Print stack traces and more detail on errors' },
} as const satisfies FlagSpecs;

/** Flags of every command that builds or loads a model, and so needs its mixers. */
export const PLUGIN_FLAGS = {
  plugin: {
    type: 'list',
    placeholder: 'MODULE',
    description: 'Load mixers from a module path (relative to the current directory) or package name; repeatable',
  },
} as const satisfies FlagSpecs;
