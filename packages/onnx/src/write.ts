import { ShiftmixError } from '@shiftmix/core';
import { exportModel, type ExportableModel, type ModelExport } from './export.js';
import type { OnnxManifest } from './manifest.js';

export interface WrittenExport {
  manifest: OnnxManifest;
  /** Paths of model.onnx, decode.onnx and model.json. */
  files: { model: string; decode: string; manifest: string };
}

/** The export's files, name to bytes (model.onnx, decode.onnx, model.json), as writeExport writes them; for a browser, which has no folder to write. */
export function exportFiles(exported: ModelExport): Map<string, Uint8Array> {
  return new Map([
    [exported.manifest.files.model, exported.model],
    [exported.manifest.files.decode, exported.decode],
    ['model.json', new TextEncoder().encode(`${JSON.stringify(exported.manifest, null, 2)}\n`)],
  ]);
}

/** Writes model.onnx, decode.onnx and model.json into `dir` (created if needed). Node only. */
export async function writeExport(dir: string, exported: ModelExport): Promise<WrittenExport> {
  // Loaded lazily so the rest of the package also runs in a browser.
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const files = {
    model: path.join(dir, exported.manifest.files.model),
    decode: path.join(dir, exported.manifest.files.decode),
    manifest: path.join(dir, 'model.json'),
  };
  // Each file is written beside its place and renamed into it once all three are written,
  // so a failure (a full disk) leaves no half-written export and the previous one, if any, whole.
  const staged: [string, Uint8Array][] = [...exportFiles(exported)].map(([name, bytes]) => [path.join(dir, name), bytes]);
  const partial = (file: string) => `${file}.partial`;
  try {
    await fs.mkdir(dir, { recursive: true });
    for (const [file, content] of staged) await fs.writeFile(partial(file), content);
    for (const [file] of staged) await fs.rename(partial(file), file);
  } catch (error) {
    await Promise.allSettled(staged.map(([file]) => fs.rm(partial(file), { force: true })));
    throw new ShiftmixError(`cannot write the ONNX export to ${dir}: ${(error as Error).message}`, 'Choose a writable output directory', 'E_IO');
  }
  return { manifest: exported.manifest, files };
}

/**
 * Exports a model and its tokenizer into `outDir`: model.onnx (full sequence),
 * decode.onnx (one step with state) and model.json (manifest with the tokenizer).
 */
export async function exportCheckpoint(model: ExportableModel, tokenizer: unknown, outDir: string, options: { opset?: number } = {}): Promise<WrittenExport> {
  return writeExport(outDir, exportModel(model, { opset: options.opset, tokenizer }));
}
