import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ShiftmixError } from '../errors.js';
import { decodeTextBytes } from './load.js';

// Where text corpora come from (Node): one text file, every file under a folder, the files a
// glob matches, or the "text" field of each line of a JSONL file. Files are taken in sorted
// path order, so the same folder always gives the same token stream (and the same split).

const quote = (path: string) => JSON.stringify(path);

/** A text corpus as documents, with the files read for them (hashed to notice a changed corpus). */
export interface TextSource {
  kind: 'text' | 'folder' | 'glob' | 'jsonl';
  files: string[];
  /** Yields each document's text in order. */
  documents(): Iterable<{ text: string; where: string }>;
}

/** Whether a --data argument is a glob: it has *, ? or [ in it. */
export function isGlob(spec: string): boolean {
  return /[*?[]/.test(spec);
}

/** A glob as a regular expression over '/'-separated paths: `**` any folders, `*` and `?` within one name. */
function globRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // "**/" matches no folder too.
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        out += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Every regular file under `dir`, hidden ones (.name) left out, in sorted path order. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (folder: string): void => {
    for (const name of readdirSync(folder).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(folder, name);
      const stats = statSync(path);
      if (stats.isDirectory()) visit(path);
      else if (stats.isFile()) out.push(path);
    }
  };
  visit(dir);
  return out;
}

/** The files a glob names, walking from the folder before its first wildcard. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split(/[\\/]/);
  const firstWild = parts.findIndex((part) => isGlob(part));
  const base = parts.slice(0, firstWild).join('/') || '.';
  let files: string[];
  try {
    files = walk(base);
  } catch (error) {
    throw new ShiftmixError(
      `cannot list ${quote(base)} for the glob ${quote(pattern)}: ${(error as Error).message}`,
      'Check the folder part of the glob',
      'E_DATA_MISSING',
    );
  }
  const regex = globRegex(parts.slice(firstWild).join('/'));
  const matched = files.filter((file) => regex.test(relative(base, file).split(sep).join('/')));
  if (matched.length === 0) {
    throw new ShiftmixError(
      `the glob ${quote(pattern)} matches no files`,
      'Check the pattern; quote it so the shell does not expand it, e.g. --data "texts/**/*.txt"',
      'E_DATA_MISSING',
    );
  }
  return matched;
}

function readText(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ShiftmixError(`cannot read ${quote(path)}: ${(error as Error).message}`, 'Check the path and its permissions', 'E_DATA_READ');
  }
  return decodeTextBytes(bytes, quote(path));
}

/** Documents from text files, one per file; an empty or binary file is an error naming it. */
export function textFiles(kind: 'text' | 'folder' | 'glob', files: string[]): TextSource {
  return {
    kind,
    files,
    *documents() {
      for (const file of files) yield { text: readText(file), where: quote(file) };
    },
  };
}

/**
 * Documents from a JSONL file: each non-blank line a JSON object whose `field` (default
 * "text") is a non-empty string. A line that is not such an object is an error naming the
 * file and line.
 */
export function jsonlFile(file: string, field = 'text'): TextSource {
  return {
    kind: 'jsonl',
    files: [file],
    *documents() {
      const lines = readText(file).split('\n');
      let count = 0;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (line === '') continue;
        const where = `${quote(file)} line ${i + 1}`;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          throw new ShiftmixError(
            `${where} is not valid JSON (${(error as Error).message})`,
            'Write one JSON object per line, e.g. {"text": "..."}',
            'E_DATA_JSONL',
          );
        }
        const text = (value as Record<string, unknown> | null)?.[field];
        if (typeof value !== 'object' || value === null || typeof text !== 'string' || text === '') {
          throw new ShiftmixError(
            `${where} has no non-empty "${field}" string`,
            `Give every line a "${field}" field with the document's text, or name the field that holds it`,
            'E_DATA_JSONL',
          );
        }
        count++;
        yield { text, where };
      }
      if (count === 0)
        throw new ShiftmixError(`the JSONL file ${quote(file)} has no lines`, 'Write one JSON object per line, e.g. {"text": "..."}', 'E_DATA_EMPTY');
    },
  };
}
