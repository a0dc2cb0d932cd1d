import { parseManifest, type Manifest } from './manifest.js';
import { DemoError, type ModelSource } from './protocol.js';

export interface LoadedFiles {
  manifest: Manifest;
  decode: Uint8Array;
}

const MAKE_FIX = 'Make the bundled models (npm run models in apps/web-demo), or load a folder written by shiftmix export';

async function fetchOk(url: string, file: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DemoError(`cannot fetch ${file} from ${url} (${(error as Error).message})`, MAKE_FIX, 'E_MODEL_NOT_FOUND');
  }
  // A dev server answers unknown paths with its index page, so HTML also means "not there".
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || type.includes('text/html')) {
    throw new DemoError(`${file} was not found at ${url} (HTTP ${response.status}${response.ok ? ', an HTML page' : ''})`, MAKE_FIX, 'E_MODEL_NOT_FOUND');
  }
  return response;
}

function folderName(base: string): string {
  const parts = base.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? 'model';
}

async function fromUrl(base: string): Promise<LoadedFiles> {
  const root = base.endsWith('/') ? base : `${base}/`;
  const manifest = await parseManifest(await (await fetchOk(`${root}model.json`, 'model.json')).text(), folderName(root));
  const decode = new Uint8Array(await (await fetchOk(`${root}${manifest.decodeFile}`, manifest.decodeFile)).arrayBuffer());
  return { manifest, decode };
}

function baseName(file: File): string {
  return file.name.split('/').pop() ?? file.name;
}

async function fromFiles(files: File[]): Promise<LoadedFiles> {
  const names = files.map(baseName);
  const manifestFile = files.find((f) => baseName(f) === 'model.json');
  if (!manifestFile) {
    throw new DemoError(
      `no model.json among the chosen files (${names.slice(0, 6).join(', ') || 'none'})`,
      'Choose the folder written by shiftmix export, or its model.json and decode.onnx together',
      'E_MODEL_NOT_FOUND',
    );
  }
  const folder = (manifestFile as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/')[0];
  const manifest = await parseManifest(await manifestFile.text(), folder || 'your model');
  const decodeFile = files.find((f) => baseName(f) === manifest.decodeFile);
  if (!decodeFile) {
    throw new DemoError(
      `no ${manifest.decodeFile} among the chosen files (${names.join(', ')})`,
      `Choose ${manifest.decodeFile} together with model.json`,
      'E_MODEL_NOT_FOUND',
    );
  }
  return { manifest, decode: new Uint8Array(await decodeFile.arrayBuffer()) };
}

/** Reads model.json and decode.onnx from a server folder or from files the user picked. */
export function loadFiles(source: ModelSource): Promise<LoadedFiles> {
  return source.kind === 'url' ? fromUrl(source.base) : fromFiles(source.files);
}
