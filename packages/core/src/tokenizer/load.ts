import { ShiftmixError } from '../errors.js';
import { CharTokenizer } from './char.js';
import { Gpt2Tokenizer } from './gpt2.js';
import { HfTokenizer } from './hf.js';
import { tokenizerFromJSON } from './restore.js';
import { TOKENIZER_NAMES, type Tokenizer } from './types.js';

/** Whether a --tokenizer value names a file (a tokenizer.json) rather than a tokenizer by name. */
export function isTokenizerFile(spec: string): boolean {
  return !(TOKENIZER_NAMES as readonly string[]).includes(spec) && (spec.endsWith('.json') || /[\\/]/.test(spec));
}

/**
 * The tokenizer a user names (Node): "char" (built from `text`), "gpt2", or the path of a
 * Hugging Face tokenizer.json (a tokenizer_config.json beside it is read too). A name that
 * is neither, a file that does not exist or does not parse, is a one-line error.
 */
export async function loadTokenizer(spec: string, options: { text?: string } = {}): Promise<Tokenizer> {
  if (spec === 'char') {
    if (options.text === undefined) {
      throw new ShiftmixError('a character tokenizer is built from the training text, and none was given', 'Pass the text to build it from', 'E_TOKENIZER');
    }
    return CharTokenizer.fromText(options.text);
  }
  if (spec === 'gpt2') return Gpt2Tokenizer.load();
  if (!isTokenizerFile(spec)) {
    throw new ShiftmixError(
      `unknown tokenizer ${JSON.stringify(spec)}`,
      `Use one of ${TOKENIZER_NAMES.join(', ')}, or the path of a Hugging Face tokenizer.json`,
      'E_TOKENIZER',
    );
  }
  const { readFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const label = JSON.stringify(spec);
  let raw: string;
  try {
    raw = await readFile(spec, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const problem = code === 'ENOENT' ? `the tokenizer file ${label} does not exist` : `cannot read the tokenizer file ${label}: ${(error as Error).message}`;
    throw new ShiftmixError(problem, `Check the path, or use one of ${TOKENIZER_NAMES.join(', ')}`, 'E_TOKENIZER');
  }
  const parsed = parseJson(raw, label);
  const configPath = join(dirname(spec), 'tokenizer_config.json');
  const config = await readFile(configPath, 'utf8').then(
    (text) => parseJson(text, JSON.stringify(configPath)),
    () => ({}),
  );
  // A tokenizer.json this library saved (a checkpoint's) is restored as itself.
  const type = (parsed as { type?: unknown }).type;
  if (type === 'char' || type === 'gpt2' || type === 'hf') return tokenizerFromJSON(parsed, label);
  return HfTokenizer.create(parsed, { config, source: spec.split(/[\\/]/).pop() });
}

function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ShiftmixError(
      `the tokenizer file ${label} is not valid JSON (${(error as Error).message})`,
      "Give the tokenizer.json a Hugging Face tokenizer was saved as, or a checkpoint's tokenizer.json",
      'E_TOKENIZER',
    );
  }
}
