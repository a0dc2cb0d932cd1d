/// <reference lib="webworker" />
import { CharTokenizer, ShiftmixModel, TextDataset, generate, selectBackend, setWasmFiles, train } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
// Importing the package registers its provider: selectBackend can then start WebGPU here.
import '@shiftmix/webgpu';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { DemoError, errorResponse } from '../protocol.js';
import type { TrainRequest, TrainResponse } from './protocol.js';

// The training worker: the whole of shiftmix's trainer (the planned step included, which
// on WebGPU replays the step's recorded dispatches) runs here, off the page's thread.

declare const self: DedicatedWorkerGlobalScope;

// The bundler emits tfjs's wasm binaries as assets of this site; tell core where they are.
setWasmFiles({ 'tfjs-backend-wasm.wasm': plainWasm, 'tfjs-backend-wasm-simd.wasm': simdWasm, 'tfjs-backend-wasm-threaded-simd.wasm': threadedWasm });
registerHsmAb();
registerFusion();
registerAttention();

const post = (message: TrainResponse): void => self.postMessage(message);

let backendChosen: string | null = null;
let trained: { model: ShiftmixModel; tokenizer: CharTokenizer } | null = null;
let abort: AbortController | null = null;

async function chooseBackend(provider: Extract<TrainRequest, { type: 'train' }>['provider']): Promise<{ backend: string; note: string | null }> {
  // One backend per worker: tfjs's engine holds the model's tensors on it.
  if (backendChosen !== null && provider !== 'auto' && provider !== backendChosen) {
    throw new DemoError(`this page already trains on ${backendChosen}`, 'Reload the page to train on another backend', 'E_BACKEND');
  }
  if (backendChosen === null) {
    const info = await selectBackend(provider);
    backendChosen = info.backend;
    return { backend: info.backend, note: info.note ?? null };
  }
  return { backend: backendChosen, note: null };
}

async function runTraining(id: number, request: Extract<TrainRequest, { type: 'train' }>): Promise<void> {
  const { backend, note } = await chooseBackend(request.provider);
  const tokenizer = CharTokenizer.fromText(request.text);
  const data = new TextDataset(tokenizer.encode(request.text), { valFraction: 0.1 });
  const { model: choice, recipe } = request;
  trained?.model.dispose();
  trained = null;
  const model = ShiftmixModel.create({
    vocabSize: tokenizer.vocabSize,
    dim: choice.dim,
    heads: choice.heads,
    contextLength: choice.contextLength,
    layers: choice.layers,
    seed: recipe.seed,
  });
  post({
    type: 'started',
    id,
    info: { backend, note, params: model.paramCount(), vocabSize: tokenizer.vocabSize, trainTokens: Math.round(request.text.length * 0.9) },
  });
  abort = new AbortController();
  try {
    const summary = await train({
      model,
      data,
      tokenizer,
      recipe: { ...recipe, warmup: Math.min(100, Math.floor(recipe.steps / 10)) },
      signal: abort.signal,
      onProgress: (e) =>
        post({
          type: 'progress',
          id,
          point: {
            step: e.step,
            seconds: e.elapsed,
            trainLoss: e.trainLoss,
            tokensPerSecond: e.tokensPerSecond,
            ...(e.valLoss === undefined ? {} : { valLoss: e.valLoss }),
          },
        }),
    });
    trained = { model, tokenizer };
    const { steps, trainLoss, valLoss, bestValLoss, seconds, tokensPerSecond, stepKind, stopped } = summary;
    post({ type: 'done', id, result: { steps, trainLoss, valLoss, bestValLoss, seconds, tokensPerSecond, stepKind, stopped } });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    abort = null;
  }
}

async function sample(id: number, request: Extract<TrainRequest, { type: 'generate' }>): Promise<void> {
  if (!trained) throw new DemoError('no model has finished training yet', 'Train a model first, then generate', 'E_NO_MODEL');
  const { model, tokenizer } = trained;
  const { prompt, maxTokens, temperature, topK, seed } = request;
  const text = await generate(model, tokenizer, { prompt, maxTokens, temperature, topK, seed });
  post({ type: 'text', id, text });
}

async function handle(request: Exclude<TrainRequest, { type: 'stop' }>): Promise<void> {
  try {
    if (request.type === 'train') await runTraining(request.id, request);
    else await sample(request.id, request);
  } catch (error) {
    // The Generate page's error answer: the same fields under the same type.
    post(errorResponse(request.id, error) as Extract<TrainResponse, { type: 'error' }>);
  }
}

// Requests run one after another; `stop` ends the running training after its step.
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<TrainRequest>) => {
  const request = event.data;
  if (request.type === 'stop') abort?.abort();
  else queue = queue.then(() => handle(request));
};
