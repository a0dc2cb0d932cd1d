/// <reference lib="webworker" />
import * as ort from 'onnxruntime-web';
import { TokenTextStream } from '@shiftmix/core/text';
import { Decoder } from './decoder.js';
import { generate } from './generate.js';
import { DemoError, errorResponse, type ModelInfo, type WorkerRequest, type WorkerResponse } from './protocol.js';
import { openSession } from './session.js';
import { loadFiles } from './source.js';

declare const self: DedicatedWorkerGlobalScope;

// Node placement notes are not for the page's console; real problems still throw.
ort.env.logLevel = 'error';
// Without cross-origin isolation there are no wasm threads; say so instead of warning.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

let decoder: Decoder | null = null;
let running: number | null = null;
let stopAsked = false;
const WARMUP_STEPS = 3;

const post = (message: WorkerResponse): void => self.postMessage(message);

async function load(id: number, request: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  const start = performance.now();
  const files = await loadFiles(request.source);
  const opened = await openSession(files.decode, files.manifest, request.provider);
  const next = new Decoder(opened.session, files.manifest);
  const loadMs = performance.now() - start;
  // Compile the kernels (and check the logits against the tokenizer) before anything is timed.
  const warm = performance.now();
  for (let i = 0; i < WARMUP_STEPS; i++) await next.step(0);
  next.reset();
  const warmupMs = performance.now() - warm;
  if (decoder) await decoder.session.release();
  decoder?.dispose();
  decoder = next;
  const m = files.manifest;
  const info: ModelInfo = {
    name: m.name,
    layers: m.layers,
    vocabSize: m.vocabSize,
    dim: m.dim,
    contextLength: m.contextLength,
    maxSequenceLength: m.maxSequenceLength,
    stateTensors: m.state.length,
    provider: opened.provider,
    fallbackReason: opened.fallbackReason,
    adapter: opened.adapter,
    adapterSoftware: opened.adapterSoftware,
    choice: request.provider,
    loadMs,
    warmupMs,
  };
  post({ type: 'loaded', id, info });
}

async function run(id: number, request: Extract<WorkerRequest, { type: 'generate' }>): Promise<void> {
  if (!decoder) throw new DemoError('no model is loaded yet', 'Load a model first', 'E_NO_MODEL');
  const d = decoder;
  const tokenizer = d.manifest.tokenizer;
  const prompt = Array.from(tokenizer.encode(request.prompt));
  running = id;
  stopAsked = false;
  let text = '';
  // A subword token may end inside a character: it is held back until the character completes.
  const stream = new TokenTextStream(tokenizer);
  try {
    const result = await generate(d, prompt, {
      ...request,
      shouldStop: () => stopAsked,
      onToken: (token, position, tokensPerSecond) => {
        const piece = stream.push(token);
        text += piece;
        post({ type: 'token', id, text: piece, position, tokensPerSecond });
      },
    });
    // What is still held back: a character cut by the last token, as U+FFFD.
    text += stream.flush();
    post({ type: 'done', id, text, stats: result.stats, stopped: result.stopped });
  } finally {
    running = null;
  }
}

async function handle(request: Exclude<WorkerRequest, { type: 'stop' }>): Promise<void> {
  try {
    if (request.type === 'load') await load(request.id, request);
    else await run(request.id, request);
  } catch (error) {
    post(errorResponse(request.id, error));
  }
}

// Requests run one after another on the one decoder; a stop (or any new request)
// ends the running generation at its next step.
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (running !== null) stopAsked = true;
  if (request.type !== 'stop') queue = queue.then(() => handle(request));
};
