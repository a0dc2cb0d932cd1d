import { DemoError } from '../protocol.js';
import { readTar, writeTar } from './tar.js';

// Checkpoints between the Train page and the shiftmix CLI. A download is one .tar holding
// NAME/last/ (the CLI's run layout: `shiftmix generate --checkpoint NAME`, `shiftmix
// resume --out NAME`); opening takes a folder, files, or such a .tar, and finds the
// checkpoint in it as the CLI's --checkpoint does.

/** The files of a shiftmix checkpoint (config.json lists which of the others it has). */
export const CHECKPOINT_FILES = ['config.json', 'weights.safetensors', 'tokenizer.json', 'optimizer.safetensors', 'state.json'];

/** A file the user opened: its path in the chosen folder (or its name), its bytes on demand. */
export interface OpenedFile {
  path: string;
  read(): Promise<Uint8Array>;
}

export interface PickedCheckpoint {
  /** What the model is called: its run folder's name (loose files: their layer pattern). */
  name: string;
  /** The folder it came from, as the user sees it ("hsm-ab/best"); '' for loose files. */
  dir: string;
  files: Map<string, Uint8Array>;
}

/** A name usable as a file and folder name everywhere: "hsm-ab*2,softmax-attention" -> "hsm-ab-2-softmax-attention". */
export function fileSafeName(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'model';
}

/** The .tar of a checkpoint's files, unpacked as NAME/last/, and its file name (NAME.tar). */
export function checkpointTar(label: string, files: Map<string, Uint8Array>, mtime?: number): { fileName: string; bytes: Uint8Array } {
  const name = fileSafeName(label);
  const entries = [{ path: `${name}/` }, { path: `${name}/last/` }, ...[...files].map(([file, bytes]) => ({ path: `${name}/last/${file}`, bytes }))];
  return { fileName: `${name}.tar`, bytes: writeTar(entries, mtime) };
}

const folderOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * The checkpoint among the files the user opened (a folder's files with their paths, loose
 * files, or one .tar): as the CLI's --checkpoint, the folder they share when it holds
 * config.json, else its best/, else its last/. `what` names the choice in errors ("the
 * folder runs"). Only the checkpoint's own files are read.
 */
export async function pickCheckpoint(opened: OpenedFile[], what: string): Promise<PickedCheckpoint> {
  if (opened.length === 1 && opened[0].path.toLowerCase().endsWith('.tar')) {
    let entries: Map<string, Uint8Array>;
    try {
      entries = readTar(await opened[0].read());
    } catch (error) {
      throw new DemoError(
        `${what} is not a tar archive (${(error as Error).message})`,
        'Open the .tar this page downloaded, or the folder it unpacks to',
        'E_NOT_TAR',
      );
    }
    opened = [...entries].map(([path, bytes]) => ({ path, read: async () => bytes }));
  }
  const folders = new Map<string, Map<string, OpenedFile>>();
  for (const file of opened) {
    const folder = folderOf(file.path);
    if (!folders.has(folder)) folders.set(folder, new Map());
    folders.get(folder)!.set(baseName(file.path), file);
  }
  // The folder every file is in: the one the user chose, or deeper when all lie below it.
  let root = opened.length ? folderOf(opened[0].path) : '';
  for (const file of opened) while (root && !file.path.startsWith(`${root}/`)) root = folderOf(root);
  const join = (sub: string) => (root ? `${root}/${sub}` : sub);
  const dir = [root, join('best'), join('last')].find((candidate) => folders.get(candidate)?.has('config.json'));
  if (dir === undefined) {
    const elsewhere = [...folders].find(([, files]) => files.has('config.json'))?.[0];
    throw new DemoError(
      `${what} holds no shiftmix checkpoint (no config.json${root ? `, best/ or last/ in ${root}` : ''})`,
      elsewhere !== undefined
        ? `Open the folder ${elsewhere} itself`
        : 'Open a checkpoint folder written by shiftmix train, or the .tar this page downloads (config.json, weights.safetensors, state.json, tokenizer.json)',
      'E_NOT_CHECKPOINT',
    );
  }
  const chosen = folders.get(dir)!;
  const files = new Map<string, Uint8Array>();
  for (const name of CHECKPOINT_FILES) {
    const file = chosen.get(name);
    if (file) files.set(name, await file.read());
  }
  const last = baseName(dir);
  const name = last === 'best' || last === 'last' ? baseName(folderOf(dir)) || last : last;
  return { name: name || layersName(files.get('config.json')!), dir, files };
}

/** Loose files have no folder to be named after: their layer pattern names them ("hsm-ab-4"). */
function layersName(config: Uint8Array): string {
  try {
    const layers = (JSON.parse(new TextDecoder().decode(config)) as { model?: { layers?: unknown } }).model?.layers;
    if (typeof layers === 'string') return fileSafeName(layers);
  } catch {
    // Not JSON: loading it says so.
  }
  return 'checkpoint';
}

/** The files of an <input type=file>, with their paths in the chosen folder (webkitdirectory) or their names. */
export function openedFiles(list: ArrayLike<File>): OpenedFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, read: async () => new Uint8Array(await file.arrayBuffer()) }));
}

/** Offers `bytes` as a download named `fileName`. */
export function saveFile(fileName: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the bytes once the click's task ran.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
