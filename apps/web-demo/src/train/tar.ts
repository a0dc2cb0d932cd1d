// A tiny tar (ustar) writer and reader: the Train page gives a checkpoint as one .tar the
// user unpacks into a folder for the shiftmix CLI (`tar -xf hsm-ab.tar`), and opens such
// a .tar again. Files and folders only; names of ASCII characters.

export interface TarEntry {
  /** A path with "/" between folders; a folder's path ends with "/". */
  path: string;
  /** A file's bytes; none for a folder. */
  bytes?: Uint8Array;
}

const BLOCK = 512;
const ascii = (text: string) => new TextEncoder().encode(text);

/** Writes `value` as zero-padded octal in `width` - 1 digits and a NUL, as ustar's numbers are. */
function octal(header: Uint8Array, at: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new Error(`${value} does not fit a tar header field`);
  header.set(ascii(`${digits}\0`), at);
}

/** ustar splits a long path at a "/" into prefix (155 bytes) and name (100). */
function splitPath(path: string): [prefix: string, name: string] {
  if (path.length <= 100) return ['', path];
  for (let cut = path.indexOf('/'); cut !== -1 && cut <= 155; cut = path.indexOf('/', cut + 1)) {
    if (path.length - cut - 1 <= 100) return [path.slice(0, cut), path.slice(cut + 1)];
  }
  throw new Error(`the path ${path} is too long for a tar header`);
}

function header(path: string, size: number, folder: boolean, mtime: number): Uint8Array {
  if (!/^[\x20-\x7e]+$/.test(path)) throw new Error(`the path ${JSON.stringify(path)} is not plain ASCII`);
  const block = new Uint8Array(BLOCK);
  const [prefix, name] = splitPath(path);
  block.set(ascii(name), 0);
  octal(block, 100, 8, folder ? 0o755 : 0o644);
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, size);
  octal(block, 136, 12, mtime);
  block[156] = (folder ? '5' : '0').charCodeAt(0);
  block.set(ascii('ustar\x0000'), 257); // magic "ustar\0", version "00"
  block.set(ascii(prefix), 345);
  // The checksum is the sum of the header's bytes with its own field read as spaces.
  block.fill(0x20, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  block.set(ascii(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return block;
}

/** A tar archive of `entries`, in order; `mtime` in seconds since 1970 (default: now). */
export function writeTar(entries: TarEntry[], mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const blocks = entries.map((e) => Math.ceil((e.bytes?.length ?? 0) / BLOCK) + 1);
  // Two zero blocks end the archive.
  const out = new Uint8Array((blocks.reduce((a, b) => a + b, 0) + 2) * BLOCK);
  let at = 0;
  entries.forEach((entry, i) => {
    const folder = entry.bytes === undefined;
    out.set(header(entry.path, entry.bytes?.length ?? 0, folder, mtime), at);
    if (entry.bytes) out.set(entry.bytes, at + BLOCK);
    at += blocks[i] * BLOCK;
  });
  return out;
}

/** A header's text field: its bytes up to the first NUL. */
function field(block: Uint8Array, at: number, width: number): string {
  const bytes = block.subarray(at, at + width);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** The files of a tar archive (folders are left out), by path; throws on what is not a tar. */
export function readTar(bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (let at = 0; at + BLOCK <= bytes.length;) {
    const block = bytes.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) return files;
    const stored = parseInt(field(block, 148, 8).trim(), 8);
    const sum = block.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 0x20 : b), 0);
    if (stored !== sum) throw new Error(`the header at byte ${at} is not a tar header (its checksum does not match)`);
    const size = parseInt(field(block, 124, 12).trim() || '0', 8);
    const prefix = field(block, 345, 155);
    const path = (prefix ? `${prefix}/` : '') + field(block, 0, 100);
    const type = String.fromCharCode(block[156]);
    if (at + BLOCK + size > bytes.length) throw new Error(`${path} is cut short: the archive ends inside it`);
    // Regular files ('0', or NUL in old archives); folders, links and extended headers are skipped.
    if (type === '0' || type === '\0') files.set(path, bytes.slice(at + BLOCK, at + BLOCK + size));
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
