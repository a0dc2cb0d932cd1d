import shakespeareUrl from '../../../../benchmarks/data/tinyshakespeare.txt?url';
import type { ProviderChoice } from '../protocol.js';
import { draw } from '../chart.js';
import { downloadCheckpoint, wireOpenButtons } from './checkpoint-ui.js';
import { describeExport, downloadExport, exportAndDecode, type ExportedCheck } from './export-ui.js';
import { chosenModels, chosenRecipe, presetForm } from './form.js';
import { lossLines } from './lines.js';
import type { ModelChoice, OpenedInfo, RecipeChoice, TrainPoint, TrainRequest, TrainResponse, TrainResult, TrainStarted } from './protocol.js';

// The Train page: a form, a queue of models trained one after another in one worker, the
// loss chart and a table. URL parameters preset the form (models=gpt,hsm-ab&steps=...&dim=
// ...&provider=wasm) and `autostart` starts at once; window.trainDemo holds the runs.
// Each run's last checkpoint downloads as a .tar for the CLI; a CLI checkpoint opens here
// to generate with, or to train on. window.trainLogits(prompt) gives the model's logits.

const COLORS = ['#d1495b', '#2e86ab', '#3c9d5d', '#e8a33d', '#7d5ba6', '#555555'];

export interface RunState {
  label: string;
  layers: string;
  color: string;
  started?: TrainStarted;
  points: TrainPoint[];
  result?: TrainResult;
  error?: string;
  /** The step of the run's last checkpoint, which its "Download checkpoint" button gives. */
  checkpointStep?: number;
}

interface DemoState {
  state: 'idle' | 'running' | 'done';
  runs: RunState[];
  sample?: string;
  /** The checkpoint opened last: where in the files opened it was found, and what it holds. */
  checkpoint?: OpenedInfo & { dir: string };
  /** Why the last checkpoint opened could not be. */
  checkpointError?: string;
  /** The last export, decoded by onnxruntime-web beside the trainer's own text. */
  exported?: ExportedCheck;
  exportError?: string;
}

declare global {
  interface Window {
    trainDemo: DemoState;
    /** Logits of the last model trained or opened for each character of `prompt`, [T][vocab]. */
    trainLogits(prompt: string): Promise<number[][]>;
  }
}

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const demo: DemoState = { state: 'idle', runs: [] };
window.trainDemo = demo;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map<number, (response: TrainResponse) => void>();
worker.onmessage = (event: MessageEvent<TrainResponse>) => waiting.get(event.data.id)?.(event.data);
worker.onerror = (event) => notice(`The training worker failed: ${event.message}. Reload the page`);

function notice(text: string): void {
  $('#notice').textContent = text;
}

let text = '';
let textName = 'Tiny Shakespeare';
async function bundledText(): Promise<string> {
  if (!text) {
    const response = await fetch(shakespeareUrl);
    if (!response.ok) throw new Error(`the bundled Tiny Shakespeare did not load (HTTP ${response.status}). Reload the page, or choose a text file`);
    text = await response.text();
  }
  return text;
}

/** Trains on `file` from now on (chosen with the Text button, or dropped on the page). */
async function useText(file: File): Promise<void> {
  const content = await file.text();
  if (content.length < 2000) {
    notice(`${file.name} holds ${content.length} characters, too few to train on. Choose a text of at least 2,000 characters`);
    return;
  }
  text = content;
  textName = file.name;
  $('#text-name').textContent = `${file.name} (${content.length.toLocaleString()} characters)`;
}
$<HTMLInputElement>('#text-file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void useText(file);
});
// A text file dropped anywhere on the page is the text to train on.
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files[0];
  if (file) void useText(file);
});

const xAxis = (): 'step' | 'seconds' => ($<HTMLInputElement>('input[name=x]:checked').value === 'seconds' ? 'seconds' : 'step');
let drawPending = false;
function redraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    const x = xAxis();
    draw(
      $<SVGSVGElement>('#chart'),
      demo.runs.flatMap((r) => lossLines(r, x)),
      x === 'step' ? 'step' : 'seconds',
    );
    renderTable();
  });
}
document.querySelectorAll('input[name=x]').forEach((radio) => radio.addEventListener('change', redraw));

function renderTable(): void {
  const rows = demo.runs.map((r, i) => {
    const last = r.points.at(-1);
    const val = [...r.points].reverse().find((p) => p.valLoss !== undefined)?.valLoss;
    const cells = [
      r.label,
      r.started ? r.started.backend : r.error ? 'error' : 'waiting',
      r.started ? `${(r.started.params / 1e6).toFixed(2)}M` : '',
      last ? String(last.step) : '',
      last ? last.trainLoss.toFixed(3) : '',
      val === undefined ? '' : val.toFixed(3),
      last ? Math.round(last.tokensPerSecond).toLocaleString() : '',
      r.result ? r.result.stepKind + (r.result.stopped ? ' (stopped)' : '') : '',
    ];
    const tr = document.createElement('tr');
    tr.style.color = r.color;
    for (const c of cells) tr.append(Object.assign(document.createElement('td'), { textContent: c }));
    const cell = tr.insertCell();
    if (r.result && checkpoints.has(r)) {
      const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Download checkpoint' });
      button.dataset.run = String(i);
      button.title = `${r.label} after step ${r.checkpointStep}, as a .tar: unpack it and run the shiftmix CLI on the folder`;
      cell.append(button);
    }
    return tr;
  });
  $('#runs tbody').replaceChildren(...rows);
}

// Each run's last checkpoint, file name to bytes, kept here for its download button.
const checkpoints = new Map<RunState, Map<string, Uint8Array>>();
$('#runs tbody').addEventListener('click', (event) => {
  const index = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-run]')?.dataset.run;
  const run = index === undefined ? undefined : demo.runs[Number(index)];
  const files = run && checkpoints.get(run);
  if (run && files) notice(downloadCheckpoint(run.label, files));
});
function request(message: TrainRequest, onResponse: (response: TrainResponse) => boolean): void {
  waiting.set(message.id, (response) => {
    if (onResponse(response)) waiting.delete(message.id);
  });
  worker.postMessage(message);
}

let stopAsked = false;
/** Runs one request that trains `run` (a new run, or a stopped one continued) to its end. */
function trainOne(run: RunState, message: Extract<TrainRequest, { type: 'train' | 'continue' }>): Promise<void> {
  return new Promise((resolve) => {
    request(message, (response) => {
      if (response.type === 'started') {
        run.started = response.info;
        // Core words its note for the CLI; here the choice is the Backend menu.
        const why = response.info.note?.replace(/--backend (\w+) forces it/, 'choose $1 under Backend to force it');
        $('#backend').textContent = `Backend: ${response.info.backend}${why ? ` (${why})` : ''}`;
      } else if (response.type === 'progress') run.points.push(response.point);
      else if (response.type === 'checkpoint') {
        checkpoints.set(run, new Map(Object.entries(response.files)));
        run.checkpointStep = response.step;
      } else if (response.type === 'done') run.result = response.result;
      else if (response.type === 'error') run.error = `${response.problem}. ${response.fix}`;
      redraw();
      const finished = response.type === 'done' || response.type === 'error';
      if (finished) resolve();
      return finished;
    });
  });
}

/** The comparison being trained: its models, in order, and what they all train with. */
let comparison: { models: ModelChoice[]; recipe: RecipeChoice; provider: ProviderChoice; data: string } | undefined;

/** The run Continue goes on with: the one a stop ended, which has its checkpoint at the stop. */
const stoppedRun = () => demo.runs.find((run) => run.result?.stopped && checkpoints.has(run));

/**
 * Trains the comparison's runs that have not finished, one after another: a stopped one
 * goes on from its checkpoint, those not started yet start. A stop ends the running one
 * after its step and leaves the rest for Continue.
 */
async function runComparison(): Promise<void> {
  const c = comparison!;
  demo.state = 'running';
  stopAsked = false;
  $<HTMLButtonElement>('#train').disabled = $<HTMLButtonElement>('#continue').disabled = true;
  $<HTMLButtonElement>('#stop').disabled = false;
  for (const [i, run] of demo.runs.entries()) {
    if (stopAsked) break;
    const files = run.result?.stopped ? checkpoints.get(run) : undefined;
    if (files) {
      notice(`Continuing ${run.label} from step ${run.checkpointStep}…`);
      run.result = undefined;
      const params = run.started?.params ?? 0;
      await trainOne(run, { type: 'continue', id: nextId++, name: run.label, params, files: Object.fromEntries(files), provider: c.provider, text: c.data });
    } else if (!run.started && !run.error) {
      await trainOne(run, { type: 'train', id: nextId++, model: c.models[i], recipe: c.recipe, provider: c.provider, text: c.data, textName });
    }
    if (run.error) notice(`${run.label}: ${run.error}`);
  }
  demo.state = 'done';
  $<HTMLButtonElement>('#train').disabled = false;
  $<HTMLButtonElement>('#stop').disabled = true;
  const unfinished = demo.runs.some((run) => !run.started && !run.error);
  $<HTMLButtonElement>('#continue').disabled = !(stoppedRun() || unfinished);
  $<HTMLButtonElement>('#sample').disabled = $<HTMLButtonElement>('#export').disabled = !demo.runs.some((run) => run.result);
  const failed = demo.runs.filter((run) => run.error).length;
  if (!failed) {
    notice(
      stopAsked
        ? 'Stopped. Continue goes on from where it stopped.'
        : 'Done. Generate below with the last model trained, or download a checkpoint for the shiftmix CLI.',
    );
  }
  redraw();
}

async function trainAll(): Promise<void> {
  const models = chosenModels(demo.checkpoint);
  if (models.length === 0) {
    notice('No model is chosen. Tick at least one model, or type a layer pattern');
    return;
  }
  const provider = $<HTMLSelectElement>('#provider').value as ProviderChoice;
  const r = chosenRecipe();
  let data: string;
  try {
    data = await bundledText();
  } catch (error) {
    notice((error as Error).message);
    return;
  }
  checkpoints.clear();
  comparison = { models, recipe: r, provider, data };
  demo.runs = models.map((m, i) => ({ label: m.label, layers: m.layers, color: COLORS[i % COLORS.length], points: [] }));
  notice(`Training ${models.length} model(s) on ${textName}, ${r.steps} steps each…`);
  await runComparison();
}

$('#continue').addEventListener('click', () => void runComparison());
$('#train-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void trainAll();
});
$('#stop').addEventListener('click', () => {
  stopAsked = true;
  worker.postMessage({ type: 'stop', id: nextId++ } satisfies TrainRequest);
});
$('#sample-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const prompt = $<HTMLInputElement>('#prompt').value;
  $('#sample-text').textContent = '…';
  request({ type: 'generate', id: nextId++, prompt, maxTokens: 200, temperature: 0.8, topK: 20, seed: 1 }, (response) => {
    // generate returns the continuation; the page shows it after its prompt.
    if (response.type === 'text') demo.sample = $('#sample-text').textContent = prompt + response.text;
    else if (response.type === 'error') $('#sample-text').textContent = `${response.problem}. ${response.fix}`;
    return true;
  });
});

/** Sends a request that has one answer; an error answer rejects with its one-line message. */
function ask<T extends TrainResponse['type']>(message: TrainRequest, type: T): Promise<Extract<TrainResponse, { type: T }>> {
  return new Promise((resolve, reject) =>
    request(message, (response) => {
      if (response.type === type) resolve(response as Extract<TrainResponse, { type: T }>);
      else if (response.type === 'error') reject(new Error(`${response.problem}. ${response.fix}`));
      return true;
    }),
  );
}

window.trainLogits = async (prompt) => (await ask({ type: 'logits', id: nextId++, prompt }, 'logits')).logits;

wireOpenButtons({
  open: async (name, files) =>
    (await ask({ type: 'open', id: nextId++, name, files, provider: $<HTMLSelectElement>('#provider').value as ProviderChoice }, 'opened')).info,
  notice,
  opened: (checkpoint, error) => {
    demo.checkpoint = checkpoint ?? demo.checkpoint;
    demo.checkpointError = error;
    if (!checkpoint) return;
    $('#checkpoint-label').textContent = `train on from ${checkpoint.name} (${checkpoint.layers}, step ${checkpoint.step})`;
    $<HTMLElement>('#from-checkpoint-box').hidden = false;
    $<HTMLButtonElement>('#sample').disabled = $<HTMLButtonElement>('#export').disabled = false;
  },
});

$('#export').addEventListener('click', async () => {
  const button = $<HTMLButtonElement>('#export');
  button.disabled = true;
  $('#export-line').textContent = 'Exporting, then decoding the export with onnxruntime-web…';
  try {
    const check = await exportAndDecode(
      {
        exportFiles: async () => {
          const { name, files } = await ask({ type: 'export', id: nextId++ }, 'exported');
          return { name, files };
        },
        sample: async (prompt, tokens, sampling) => (await ask({ type: 'generate', id: nextId++, prompt, maxTokens: tokens, ...sampling }, 'text')).text,
      },
      $<HTMLInputElement>('#prompt').value,
      $<HTMLSelectElement>('#provider').value as ProviderChoice,
    );
    demo.exported = check;
    demo.exportError = undefined;
    $('#export-line').textContent = describeExport(check);
    Object.assign($<HTMLElement>('#export-text'), { hidden: false, textContent: check.text });
    $<HTMLElement>('#download-export').hidden = false;
  } catch (error) {
    const e = error as { problem?: string; fix?: string; message: string };
    demo.exportError = e.problem ? `${e.problem}. ${e.fix}` : e.message;
    $('#export-line').textContent = demo.exportError;
  } finally {
    button.disabled = false;
  }
});
$('#download-export').addEventListener('click', () => notice(downloadExport()));

const params = presetForm();
redraw();
if (params.has('autostart')) void trainAll();
