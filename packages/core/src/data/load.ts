import { ShiftmixError } from '../errors.js';

/**
 * Decodes file contents as UTF-8 text (a leading BOM is dropped). NUL bytes or invalid
 * UTF-8 mean the file is not text, which is an error naming `label`.
 */
export function decodeTextBytes(bytes: Uint8Array, label: string): string {
  if (bytes.length === 0) {
    throw new ShiftmixError(`the text file ${label} is empty`, 'Give a file with training text, e.g. Tiny Shakespeare', 'E_DATA_EMPTY');
  }
  const binary = (): never => {
    throw new ShiftmixError(
      `${label} does not look like a UTF-8 text file`,
      'Give a plain text file (UTF-8); convert other encodings first, e.g. with iconv',
      'E_DATA_BINARY',
    );
  };
  if (bytes.includes(0)) binary();
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    binary();
  }
  if (text.length === 0) {
    throw new ShiftmixError(`the text file ${label} is empty`, 'Give a file with training text, e.g. Tiny Shakespeare', 'E_DATA_EMPTY');
  }
  return text;
}

/** Reads a UTF-8 text file (Node only), with clear errors for missing, empty and binary files. */
export async function loadTextFile(path: string): Promise<string> {
  // Imported lazily so the rest of the data module also runs in browsers.
  const { readFile, stat } = await import('node:fs/promises');
  const label = JSON.stringify(path);
  let isDirectory = false;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ShiftmixError(`the text file ${label} does not exist`, 'Check the path; it is relative to the current directory', 'E_DATA_MISSING');
    }
    throw new ShiftmixError(`cannot read ${label}: ${(error as Error).message}`, 'Check the path and its permissions', 'E_DATA_READ');
  }
  if (isDirectory) {
    throw new ShiftmixError(`${label} is a directory, not a text file`, 'Give the path of a text file inside it', 'E_DATA_READ');
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ShiftmixError(`cannot read ${label}: ${(error as Error).message}`, 'Check the path and its permissions', 'E_DATA_READ');
  }
  return decodeTextBytes(bytes, label);
}
