import { draw, type Line } from '../chart.js';
import { ModelWorker } from '../client.js';
import type { ProviderChoice } from '../protocol.js';

// The Decode page: two exported models (folders under models/) decode from one character
// to `positions` tokens, greedily, in their own workers, one after the other; each step's
// time and the state carried after it are charted against the position. A first pass,
// untimed, compiles whatever a backend compiles per shape (WebGPU, a KV cache's length).
// URL parameters preset the form (a=, b=, positions=, provider=); `autostart` measures at once.

export interface DecodeResult {
  model: string;
  provider: string;
  stepMs: number[];
  stateBytes: number[];
  error?: string;
}

declare global {
  interface Window {
    decodeDemo: { state: 'idle' | 'running' | 'done'; results: DecodeResult[] };
  }
}

const COLORS = ['#2e86ab', '#d1495b'];
const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const demo: Window['decodeDemo'] = { state: 'idle', results: [] };
window.decodeDemo = demo;

/** Means over windows of 8 positions: single steps are below the browser's timer resolution. */
export function smoothed(values: number[], window = 8): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < values.length; start += window) {
    const part = values.slice(start, start + window).filter((v) => Number.isFinite(v));
    if (part.length) out.push([start + (part.length - 1) / 2, part.reduce((a, b) => a + b, 0) / part.length]);
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const kib = (bytes: number | undefined) => (bytes === undefined ? '' : `${(bytes / 1024).toFixed(1)} KiB`);

function render(): void {
  const done = demo.results.filter((r) => !r.error);
  const latency: Line[] = done.map((r, i) => ({ label: r.model, color: COLORS[i % 2], kind: 'val', points: smoothed(r.stepMs.slice(1)) }));
  const memory: Line[] = done.map((r, i) => ({
    label: r.model,
    color: COLORS[i % 2],
    kind: 'val',
    points: r.stateBytes.map((b, p): [number, number] => [p, b / 1024]),
  }));
  draw($<SVGSVGElement>('#latency'), latency, 'position');
  draw($<SVGSVGElement>('#memory'), memory, 'position');
  $('#results tbody').replaceChildren(
    ...demo.results.map((r) => {
      const tr = document.createElement('tr');
      // The row's color is its line's: the table is the charts' legend.
      tr.style.color = r.error ? '' : COLORS[done.indexOf(r) % 2];
      const cells = r.error
        ? [r.model, r.error]
        : [
            r.model,
            r.provider,
            String(r.stepMs.length),
            mean(r.stepMs.slice(1, 33)).toFixed(2),
            mean(r.stepMs.slice(-32)).toFixed(2),
            kib(r.stateBytes[0]),
            kib(r.stateBytes.at(-1)),
          ];
      for (const c of cells) tr.append(Object.assign(document.createElement('td'), { textContent: c }));
      return tr;
    }),
  );
}

async function measure(model: string, positions: number, provider: ProviderChoice): Promise<DecodeResult> {
  const worker = new ModelWorker();
  try {
    const info = await worker.load({ kind: 'url', base: new URL(`models/${model}/`, location.href).href }, provider);
    // Stay inside the context: past it a model restarts on the recent text, which is not a step.
    const steps = Math.min(positions, info.maxSequenceLength ?? positions) - 1;
    const options = { temperature: 0, topK: 0, seed: 1, maxTokens: steps - 1, timings: true };
    await worker.generate('\n', options, () => undefined);
    const { stats } = await worker.generate('\n', options, () => undefined);
    return { model, provider: info.provider, stepMs: stats.stepMs ?? [], stateBytes: stats.stateBytes ?? [] };
  } catch (error) {
    const e = error as { problem?: string; fix?: string; message: string };
    return { model, provider, stepMs: [], stateBytes: [], error: e.problem ? `${e.problem}. ${e.fix}` : e.message };
  } finally {
    worker.terminate();
  }
}

async function measureBoth(): Promise<void> {
  const models = [$<HTMLInputElement>('#model-a').value.trim(), $<HTMLInputElement>('#model-b').value.trim()].filter(Boolean);
  const positions = Number($<HTMLInputElement>('#positions').value);
  if (!(Number.isInteger(positions) && positions >= 8)) {
    $('#notice').textContent = `positions ${$<HTMLInputElement>('#positions').value} is not a whole number of at least 8. Use e.g. 512`;
    return;
  }
  const provider = $<HTMLSelectElement>('#provider').value as ProviderChoice;
  demo.state = 'running';
  demo.results = [];
  $<HTMLButtonElement>('#measure').disabled = true;
  for (const model of models) {
    $('#notice').textContent = `Decoding with ${model}…`;
    demo.results.push(await measure(model, positions, provider));
    render();
  }
  const failed = demo.results.filter((r) => r.error);
  $('#notice').textContent = failed.length ? failed.map((r) => `${r.model}: ${r.error}`).join(' ') : 'Done.';
  $<HTMLButtonElement>('#measure').disabled = false;
  demo.state = 'done';
}

$('#decode-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void measureBoth();
});

const params = new URLSearchParams(location.search);
for (const [key, id] of [
  ['a', '#model-a'],
  ['b', '#model-b'],
  ['positions', '#positions'],
  ['provider', '#provider'],
] as const) {
  const value = params.get(key);
  if (value !== null) $<HTMLInputElement>(id).value = value;
}
render();
if (params.has('autostart')) void measureBoth();
