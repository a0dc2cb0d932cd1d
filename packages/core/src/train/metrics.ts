import { mkdir, open, readFile, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MetricsRecord } from './types.js';

/**
 * Appends one JSON line per training step to metrics.jsonl and knows the file's length,
 * which a checkpoint records so a resumed run can drop the lines written after it.
 */
export class MetricsLog {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private length: number,
  ) {}

  /**
   * Opens the log for appending. `keepBytes` (from a checkpoint) cuts the file back to
   * the checkpoint's position, and further back to the end of its last whole record (see
   * wholeLines); `undefined` starts an empty log.
   */
  static async open(path: string, keepBytes?: number): Promise<MetricsLog> {
    await mkdir(dirname(path), { recursive: true });
    let length = 0;
    if (keepBytes !== undefined) {
      const size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
      length = Math.min(size, keepBytes);
      if (length > 0) length = wholeLines(await readFile(path), length);
      if (size > length) await truncate(path, length);
    }
    const handle = await open(path, keepBytes === undefined ? 'w' : 'a');
    return new MetricsLog(path, handle, length);
  }

  /** Byte length of what has been written, the position a checkpoint records. */
  get bytes(): number {
    return this.length;
  }

  async append(record: MetricsRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    await this.handle.write(line);
    this.length += Buffer.byteLength(line);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function isRecord(line: string): boolean {
  try {
    const value = JSON.parse(line) as { step?: unknown } | null;
    return typeof value === 'object' && value !== null && typeof value.step === 'number';
  } catch {
    return false;
  }
}

/**
 * The length of the longest start of `bytes[0, length)` made of whole lines that each
 * parse, as parseMetrics reads them: a line torn by a crash, or by another process that
 * wrote the same file, is cut off with everything after it instead of being kept.
 */
export function wholeLines(bytes: Uint8Array, length: number): number {
  let kept = 0;
  for (let start = 0; start < length;) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1 || end >= length) break;
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
    if (line.trim() !== '' && !isRecord(line)) break;
    kept = end + 1;
    start = end + 1;
  }
  return kept;
}

/** Reads a metrics.jsonl back, skipping a torn last line. */
export function parseMetrics(text: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as MetricsRecord);
    } catch {
      break;
    }
  }
  return records;
}
