import { probeAdapter } from './gpu.js';
import { ModelPanel, type BundledModel } from './panel.js';
import type { ProviderChoice } from './protocol.js';

const base = import.meta.env.BASE_URL;
const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const notice = $('notice');
const providerSelect = $<HTMLSelectElement>('provider');
const promptBox = $<HTMLTextAreaElement>('prompt');
const generateButton = $<HTMLButtonElement>('generate');

async function bundledModels(): Promise<BundledModel[]> {
  try {
    const response = await fetch(`${base}models/index.json`);
    if (response.ok && !(response.headers.get('content-type') ?? '').includes('text/html'))
      return ((await response.json()) as { models: BundledModel[] }).models;
  } catch {
    // Shown below: the demo still runs with the user's own exported files.
  }
  notice.textContent = 'No bundled models found: run "npm run models" in apps/web-demo to train and export them, or open a folder written by shiftmix export.';
  return [];
}

/** The page's one line about WebGPU: the adapter, and what `auto` does with it. */
async function showEnvironment(): Promise<void> {
  const probe = await probeAdapter();
  const env = $('env');
  env.textContent = !probe.ok
    ? `WebGPU unavailable: ${probe.reason}. Models run on wasm (CPU) instead.`
    : probe.software
      ? `WebGPU adapter: ${probe.label}, a software one (${probe.software.reason}). Auto runs the models on wasm, which is faster here; choose the webgpu provider to use it anyway.`
      : `WebGPU adapter: ${probe.label}.`;
  env.classList.toggle('warn', !probe.ok);
}

function numberField(id: string): number {
  return Number($<HTMLInputElement>(id).value);
}

async function start(): Promise<void> {
  void showEnvironment();
  const models = await bundledModels();
  const panels = [new ModelPanel(0, 'Model A', models, base), new ModelPanel(1, 'Model B', models, base)];
  $('panels').append(...panels.map((p) => p.root));
  const choice = (params.get('provider') ?? 'auto') as ProviderChoice;
  providerSelect.value = ['auto', 'webgpu', 'wasm'].includes(choice) ? choice : 'auto';
  for (const p of panels) p.setProvider(providerSelect.value as ProviderChoice);
  if (params.get('prompt') !== null) promptBox.value = params.get('prompt')!;

  const family = (word: string) => models.find((m) => m.id.includes(word))?.id ?? models[0]?.id;
  const wanted = [params.get('a') ?? family('hsm'), params.get('b') ?? family('gpt')];
  const compare = () => (document.querySelector<HTMLInputElement>('input[name=mode]:checked')?.value ?? 'single') === 'compare';
  const active = () => (compare() ? panels : panels.slice(0, 1));
  const showMode = () => {
    panels[1].root.hidden = !compare();
    document.body.classList.toggle('compare', compare());
    for (const [i, p] of active().entries()) if (p.root.dataset.state === 'empty' && wanted[i]) void p.loadBundled(wanted[i]!);
  };
  if (params.get('mode') === 'compare') document.querySelector<HTMLInputElement>('input[name=mode][value=compare]')!.checked = true;
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) radio.onchange = showMode;
  providerSelect.onchange = () => {
    for (const p of panels) {
      p.setProvider(providerSelect.value as ProviderChoice);
      if (p.root.dataset.state !== 'empty') void p.reload();
    }
  };
  showMode();

  let stopAsked = false;
  $('controls').onsubmit = async (event) => {
    event.preventDefault();
    generateButton.disabled = true;
    stopAsked = false;
    const options = {
      maxTokens: numberField('max-tokens'),
      temperature: numberField('temperature'),
      topK: numberField('top-k'),
      seed: numberField('seed'),
      timings: params.has('timings'),
    };
    // One model at a time, so that neither's tokens/s is slowed by the other.
    try {
      for (const p of active()) {
        if (stopAsked) break;
        await p.generate(promptBox.value, options);
      }
    } finally {
      generateButton.disabled = false;
    }
  };
  $('stop').onclick = () => {
    stopAsked = true;
    panels.forEach((p) => p.stop());
  };
  document.body.dataset.ready = 'true';
}

void start();
