import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './repo.js';

export interface CodeBlock {
  /** The fence's language: sh, ts, js, json... */
  lang: string;
  code: string;
  /** 1-based line of the fence in the file. */
  line: number;
}

export interface ReadmeCommand {
  /** The README, relative to the repository root. */
  readme: string;
  line: number;
  /** The command as typed: comment removed, continuation lines joined. */
  command: string;
}

/** Every fenced code block of a Markdown file. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`);
    blocks.push({ lang: open[1], code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** A shell line without its trailing `# comment` (a # inside quotes or a word is kept). */
export function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

/** The commands of a README's sh blocks, one per command line (a trailing \\ continues it). */
export function readmeCommands(readme: string): ReadmeCommand[] {
  const text = readFileSync(path.join(ROOT, readme), 'utf8');
  const commands: ReadmeCommand[] = [];
  for (const block of codeBlocks(text).filter((b) => ['sh', 'bash', 'shell', 'console'].includes(b.lang))) {
    const lines = block.code.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let command = stripComment(lines[i]).trim();
      const line = block.line + 1 + i;
      while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1).trimEnd()} ${stripComment(lines[++i]).trim()}`;
      if (command) commands.push({ readme, line, command });
    }
  }
  return commands;
}

/** The code block of `lang` whose first line is the comment `// NAME...`, e.g. my-mixer.js. */
export function namedBlock(readme: string, name: string): string {
  const text = readFileSync(path.join(ROOT, readme), 'utf8');
  const block = codeBlocks(text).find((b) => b.code.startsWith(`// ${name}`));
  if (!block) throw new Error(`${readme} has no code block starting with "// ${name}"`);
  return `${block.code}\n`;
}

/** The first code block of `lang` in a README. */
export function firstBlock(readme: string, lang: string): string {
  const block = codeBlocks(readFileSync(path.join(ROOT, readme), 'utf8')).find((b) => b.lang === lang);
  if (!block) throw new Error(`${readme} has no ${lang} code block`);
  return `${block.code}\n`;
}
