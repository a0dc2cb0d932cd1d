import { ModelWorker } from '../client.js';
import type { ProviderChoice } from '../protocol.js';
import { fileSafeName, saveFile } from './checkpoint.js';
import { writeTar } from './tar.js';

// The Train page's "Export to ONNX": the last model trained (or opened) is exported in the
// training worker, as `shiftmix export` writes it, then loaded from those files into the
// Generate page's model worker (onnxruntime-web) and sampled there, beside the trainer's own
// sample of the same prompt with the same seed: the two must agree, character for character. The files download as
// NAME-onnx.tar, a folder the Generate page's "Open folder…" takes.

export interface ExportedCheck {
  name: string;
  /** File name to size in bytes. */
  sizes: Record<string, number>;
  provider: string;
  tokensPerSecond: number;
  /** The prompt and what onnxruntime-web decoded after it. */
  text: string;
  /** The trainer's own continuation of the same prompt, sampled with the same seed. */
  trainerText: string;
}

export interface ExportControls {
  exportFiles(): Promise<{ name: string; files: Record<string, Uint8Array> }>;
  /** The trainer's continuation of `prompt` (core's generate) sampled as `sampling` says. */
  sample(prompt: string, tokens: number, sampling: typeof SAMPLING): Promise<string>;
}

const TOKENS = 100;
/** Both runtimes sample with core's sampler and this seed: equal logits give equal text. */
export const SAMPLING = { temperature: 0.8, topK: 20, seed: 1 };
let last: { name: string; files: Record<string, Uint8Array> } | undefined;

/** Exports, decodes the export in onnxruntime-web and checks it against the trainer's text. */
export async function exportAndDecode(page: ExportControls, prompt: string, provider: ProviderChoice): Promise<ExportedCheck> {
  const exported = await page.exportFiles();
  last = exported;
  const files = Object.entries(exported.files).map(([name, bytes]) => new File([bytes as Uint8Array<ArrayBuffer>], name));
  const worker = new ModelWorker();
  try {
    const info = await worker.load({ kind: 'files', files }, provider);
    const result = await worker.generate(prompt, { ...SAMPLING, maxTokens: TOKENS }, () => undefined);
    const trainerText = prompt + (await page.sample(prompt, TOKENS, SAMPLING));
    const sizes = Object.fromEntries(Object.entries(exported.files).map(([name, bytes]) => [name, bytes.length]));
    return { name: exported.name, sizes, provider: info.provider, tokensPerSecond: result.stats.tokensPerSecond, text: prompt + result.text, trainerText };
  } finally {
    worker.terminate();
  }
}

/** The line the page shows for a check. */
export function describeExport(check: ExportedCheck): string {
  const mb = (bytes: number) => (bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`);
  const sizes = Object.entries(check.sizes)
    .map(([name, bytes]) => `${name} ${mb(bytes)}`)
    .join(', ');
  const agree = check.text === check.trainerText ? 'the same text as the trained model gives' : 'NOT the text the trained model gives';
  return `Exported ${check.name} (${sizes}); onnxruntime-web on ${check.provider} sampled ${Math.round(check.tokensPerSecond)} tokens/s, ${agree} (same seed):`;
}

/** Offers the last export as NAME-onnx.tar; returns the line the page shows, or why there is nothing. */
export function downloadExport(): string {
  if (!last) return 'Nothing is exported yet. Export a model first';
  const folder = `${fileSafeName(last.name)}-onnx`;
  const entries = [{ path: `${folder}/` }, ...Object.entries(last.files).map(([name, bytes]) => ({ path: `${folder}/${name}`, bytes }))];
  saveFile(`${folder}.tar`, writeTar(entries));
  return `Saved ${folder}.tar: unpack it and open the folder on the Generate page (Open folder…), or run it with onnxruntime anywhere`;
}
