import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { namedBlock } from './readme.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A file of apps/e2e/fixtures. */
export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** The custom mixer and its test, exactly as the repository README shows them. */
export function readmeMixerFiles(): Record<string, string> {
  return { 'my-mixer.js': namedBlock('README.md', 'my-mixer.js'), 'my-mixer.test.js': namedBlock('README.md', 'my-mixer.test.js') };
}

/**
 * Text files cut from the Tiny Shakespeare that @shiftmix/bench ships, as a user would bring
 * their own: input.txt to train on and valid.txt to evaluate.
 */
export function textFiles(project: string): Record<string, string> {
  const text = readFileSync(path.join(project, 'node_modules', '@shiftmix', 'bench', 'dist', 'data', 'tinyshakespeare.txt'), 'utf8');
  return { 'input.txt': text.slice(0, 200_000), 'valid.txt': text.slice(200_000, 220_000) };
}
