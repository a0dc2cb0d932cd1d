import { readFileSync } from 'node:fs';
import { maskCredentials } from '@shiftmix/bench';
import { setRegistryWarningHandler } from '@shiftmix/core';
import type { Command, Io } from './command.js';
import { COMMANDS } from './commands/index.js';
import { formatError, UsageError } from './errors.js';
import { closest, parseFlags } from './flags.js';
import { commandHelp, mainHelp } from './help.js';

// src/ and dist/ both sit one level below the package root.
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Writes to the real process streams. */
export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stderrColumns: process.stderr.columns,
  };
}

/** Flags before `--`, where --help and --verbose count wherever they appear. */
function flagsBeforeDashDash(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const names = COMMANDS.map((c) => c.name);
  const guess = closest(name, names);
  throw new UsageError(
    `unknown command "${name}"`,
    guess ? `Did you mean "shiftmix ${guess}"? See shiftmix --help` : `Commands: ${names.join(', ')}; see shiftmix --help`,
  );
}

async function dispatch(argv: readonly string[], io: Io, verbose: boolean): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout(mainHelp(COMMANDS, VERSION));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  if (first === 'help') {
    io.stdout(rest[0] === undefined ? mainHelp(COMMANDS, VERSION) : commandHelp(findCommand(rest[0])));
    return 0;
  }
  if (first === '--verbose') return dispatch(rest, io, true);
  if (first.startsWith('-')) {
    throw new UsageError(`"${first}" is not a command`, 'Put the command first, e.g. shiftmix train --help; see shiftmix --help');
  }
  const command = findCommand(first);
  const args = rest;
  const early = flagsBeforeDashDash(args);
  if (early.includes('--help') || early.includes('-h')) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const { flags, positionals } = parseFlags(args, command.flags, command.name);
  if (positionals.length) {
    // A stray argument may be an address typed without its flag, password and all.
    const shown = /@|:\/\//.test(positionals[0]) ? maskCredentials(positionals[0]) : positionals[0];
    throw new UsageError(`unexpected argument "${shown}" for "shiftmix ${command.name}"`, `Every input is a flag; see shiftmix ${command.name} --help`);
  }
  const code = await command.run(flags, { io, verbose });
  return code ?? 0;
}

/**
 * Runs the CLI on `argv` (without node and the script) and returns the exit code.
 * Errors never escape: they are printed as one line on `io.stderr`.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const verbose = flagsBeforeDashDash(argv).includes('--verbose');
  const previous = setRegistryWarningHandler((message) => io.stderr(`${message}\n`));
  try {
    return await dispatch(argv, io, verbose);
  } catch (error) {
    const { lines, exitCode } = formatError(error, verbose);
    io.stderr(`${lines.join('\n')}\n`);
    return exitCode;
  } finally {
    setRegistryWarningHandler(previous);
  }
}
