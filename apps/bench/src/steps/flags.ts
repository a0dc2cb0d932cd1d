import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The values of a benchmark script's flags. A flag it does not know, or a value where none
 * belongs, stops it with the message and its usage (exit 2) rather than a stack trace.
 */
type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type FlagValues<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

export function parseEntryFlags<O extends FlagOptions>(options: O, usage: string): FlagValues<O> {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

/** Writes a benchmark report as indented JSON, creating its folder. */
export function writeJsonReport(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
