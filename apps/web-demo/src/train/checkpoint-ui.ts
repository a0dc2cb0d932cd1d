import { checkpointTar, openedFiles, pickCheckpoint, saveFile } from './checkpoint.js';
import type { OpenedInfo } from './protocol.js';

// The Train page's checkpoint controls: "Download checkpoint" (a run's last checkpoint as
// a .tar for the CLI) and "Open checkpoint folder…" / "Open checkpoint files…" (a CLI
// checkpoint, or a downloaded .tar, loaded into the worker).

/** Offers a run's checkpoint as NAME.tar; returns the line the page shows. */
export function downloadCheckpoint(label: string, files: Map<string, Uint8Array>): string {
  const { fileName, bytes } = checkpointTar(label, files);
  saveFile(fileName, bytes);
  const folder = fileName.slice(0, -'.tar'.length);
  return `Saved ${fileName}: unpack it (tar -xf ${fileName}) and give the folder to the shiftmix CLI, e.g. shiftmix generate --checkpoint ${folder} --prompt "ROMEO:" --tokens 200, or shiftmix resume --out ${folder} --data input.txt --steps N`;
}

export interface OpenControls {
  /** Loads the checkpoint's files in the worker; rejects with the worker's one-line error. */
  open(name: string, files: Record<string, Uint8Array>): Promise<OpenedInfo>;
  notice(text: string): void;
  /** Told what was opened (and where among the files it was found), or why nothing was. */
  opened(checkpoint: (OpenedInfo & { dir: string }) | undefined, error?: string): void;
}

async function openFrom(list: FileList | null, what: string, page: OpenControls): Promise<void> {
  if (!list || list.length === 0) return;
  try {
    page.notice('Opening the checkpoint…');
    const picked = await pickCheckpoint(openedFiles(list), what);
    const info = await page.open(picked.name, Object.fromEntries(picked.files));
    page.opened({ ...info, dir: picked.dir });
    page.notice(
      `Opened ${info.name}${picked.dir ? ` (${picked.dir})` : ''}: ${info.layers}, D ${info.dim}, context ${info.contextLength}, ` +
        `${(info.params / 1e6).toFixed(2)}M parameters, step ${info.step}, on ${info.backend}. ` +
        `Generate with it below, or tick "train on from ${info.name}" to train it on with this page's recipe.`,
    );
  } catch (error) {
    const message = (error as Error).message;
    page.opened(undefined, message);
    page.notice(message);
  }
}

/** Wires the two open buttons (a folder, or files: loose checkpoint files or one .tar). */
export function wireOpenButtons(page: OpenControls): void {
  const folder = document.querySelector<HTMLInputElement>('#open-folder')!;
  const files = document.querySelector<HTMLInputElement>('#open-files')!;
  folder.addEventListener('change', async () => {
    const top = folder.files?.[0]?.webkitRelativePath.split('/')[0];
    await openFrom(folder.files, `the folder ${top}`, page);
    folder.value = ''; // so the same folder opens again
  });
  files.addEventListener('change', async () => {
    const list = files.files;
    await openFrom(list, list?.length === 1 ? list[0].name : `the ${list?.length} files opened`, page);
    files.value = '';
  });
}
