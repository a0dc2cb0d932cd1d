import { selectBackend, tf } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { webGpuInfo } from '@shiftmix/webgpu';
import { runChecks, type ParityResult } from '@shiftmix/webgpu/parity';

/** What the page reports on window.kernelParity and in #results once it is done. */
export interface ParityReport {
  state: 'done' | 'error';
  /** The tfjs backend the checks ran on and the WebGPU adapter under it. */
  backend: string;
  adapter?: {
    name: string;
    vendor: string;
    architecture: string;
    description: string;
    software: boolean;
    isFallbackAdapter: boolean | null;
    featureLevel: string;
  };
  results: ParityResult[];
  error?: string;
  seconds: number;
}

declare global {
  interface Window {
    kernelParity?: ParityReport;
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

function row(result: ParityResult): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.ok = String(result.ok);
  const cells = [
    result.name,
    result.maxRelDiff === null ? '—' : result.maxRelDiff.toExponential(2),
    result.tol.toExponential(0),
    result.ok ? 'ok' : `FAIL ${result.detail ?? ''}`,
  ];
  for (const text of cells) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
  return tr;
}

/** isFallbackAdapter of the adapter the browser hands out (WebGpuInfo folds it into `software`). */
async function fallbackFlag(): Promise<boolean | null> {
  type Gpu = { requestAdapter(options?: object): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> };
  const adapter = await (navigator as unknown as { gpu?: Gpu }).gpu?.requestAdapter({ powerPreference: 'high-performance' });
  return adapter?.info?.isFallbackAdapter ?? null;
}

function finish(report: ParityReport): void {
  window.kernelParity = report;
  $('#results').textContent = JSON.stringify(report, null, 1);
  const failed = report.results.filter((r) => !r.ok).length;
  $('#summary').textContent =
    report.state === 'error'
      ? `Stopped: ${report.error}`
      : `${report.results.length - failed} of ${report.results.length} checks passed in ${report.seconds.toFixed(1)} s.`;
  document.body.dataset.state = report.state;
}

async function main(): Promise<void> {
  const start = performance.now();
  const only = new URLSearchParams(location.search).get('only');
  const results: ParityResult[] = [];
  const report = (state: ParityReport['state'], extra: Partial<ParityReport> = {}): ParityReport => ({
    state,
    backend: tf.getBackend(),
    results,
    seconds: (performance.now() - start) / 1000,
    ...extra,
  });
  let adapter: ParityReport['adapter'];
  try {
    await selectBackend('webgpu');
    const info = webGpuInfo();
    if (!info || tf.getBackend() !== 'webgpu') throw new Error(`the tfjs backend is ${tf.getBackend()}, not webgpu`);
    const { name, vendor, architecture, description, software, featureLevel } = info.report;
    adapter = { name, vendor, architecture, description, software, isFallbackAdapter: await fallbackFlag(), featureLevel };
    $('#adapter').textContent =
      `WebGPU adapter: ${[name, vendor, architecture, description].filter(Boolean).join(', ')} (${featureLevel}${software ? ', software' : ''})`;
    // The model check builds a stack of these two mixers.
    registerHsmAb();
    registerAttention();
    await runChecks(only, (done, check, ms) => {
      console.info(`${check.name}: ${ms.toFixed(0)} ms`);
      results.push(...done);
      $('#checks tbody').append(...done.map(row));
    });
    finish(report('done', { adapter }));
  } catch (error) {
    finish(report('error', { adapter, error: (error as Error).message }));
  }
}

void main();
