import type { Command } from './command.js';
import { kebab, type FlagSpec, type FlagSpecs } from './flags.js';

function flagLabel(name: string, spec: FlagSpec): string {
  const flag = `--${kebab(name)}`;
  if (spec.type === 'boolean') return flag;
  if (spec.type === 'choice') return `${flag} ${spec.placeholder ?? spec.choices.join('|')}`;
  return `${flag} ${spec.placeholder ?? (spec.type === 'number' ? 'N' : 'VALUE')}`;
}

function flagNote(spec: FlagSpec): string {
  if (spec.type === 'boolean' || spec.type === 'list') return '';
  if ('required' in spec && spec.required) return ' (required)';
  if (spec.default !== undefined) return ` (default: ${spec.default})`;
  return '';
}

/** Two columns: labels padded to a common width, descriptions after them. */
function table(rows: [string, string][]): string[] {
  const width = Math.min(32, Math.max(...rows.map(([label]) => label.length)));
  return rows.map(([label, text]) => (label.length > width ? `  ${label}\n  ${' '.repeat(width)}  ${text}` : `  ${label.padEnd(width)}  ${text}`));
}

export function formatFlags(flags: FlagSpecs): string[] {
  return table(Object.entries(flags).map(([name, spec]) => [flagLabel(name, spec), `${spec.description}${flagNote(spec)}`]));
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: shiftmix ${command.usage}`, '', command.summary];
  if (command.details) lines.push('', command.details);
  lines.push('', 'Flags:', ...formatFlags(command.flags));
  if (command.examples.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

export function mainHelp(commands: readonly Command[], version: string): string {
  const lines = [
    `shiftmix ${version}: pluggable token mixers for Transformer language models`,
    '',
    'Usage: shiftmix <command> [flags]',
    '',
    'Commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'Global flags:',
    ...table([
      ['--help', 'Show help (also after a command: shiftmix train --help)'],
      ['--version', 'Print the version'],
      ['--verbose', 'Print stack traces on errors'],
    ]),
    '',
    'Mixers come from the built-in packages, --plugin MODULE, the "plugins" list of a',
    'shiftmix.config.json in the current directory, and installed packages whose',
    'package.json declares "shiftmix": { "mixer": "./dist/index.js" }.',
    '',
    'Run shiftmix <command> --help for the flags of a command.',
  ];
  return `${lines.join('\n')}\n`;
}
