import { mkdir, open, stat, truncate, type FileHandle } from 'node:fs/promises';
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
   * the checkpoint's position; `undefined` starts an empty log.
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
