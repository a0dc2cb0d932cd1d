/// <reference lib="webworker" />
import {
  CharTokenizer,
  Gpt2Tokenizer,
  tokenizerFromJSON,
  type Tokenizer,
  checkpointFiles,
  generate,
  hasMixer,
  isShiftmixError,
  listMixers,
  loadCheckpointFiles,
  parseLayerPattern,
  resumeFromFiles,
  selectBackend,
  setWasmFiles,
  ShiftmixModel,
  TextDataset,
  tf,
  train,
  type TrainRecipe,
  type TrainSummary,
} from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { exportFiles, exportModel } from '@shiftmix/onnx';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
// Importing the package registers its provider: selectBackend can then start WebGPU here.
import '@shiftmix/webgpu';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { DemoError, errorResponse } from '../protocol.js';
import type { RecipeChoice, TrainRequest, TrainResponse } from './protocol.js';

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
/** The model generate and logits use: the last one trained, or the checkpoint opened since. */
let trained: { model: ShiftmixModel; tokenizer: Tokenizer } | null = null;
/** The checkpoint opened last: its files, which a `train` of it loads again. */
let opened: { name: string; files: Map<string, Uint8Array> } | null = null;
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

/** Builds a checkpoint's model, refusing first a mixer this page does not register (a plugin's). */
function knownMixersOnly(name: string) {
  return (config: Record<string, unknown>): ShiftmixModel => {
    const layers = String(config.layers);
    const unknown = [...new Set(parseLayerPattern(layers, { checkRegistry: false }))].filter((mixer) => !hasMixer(mixer));
    if (unknown.length > 0) {
      throw new DemoError(
        `checkpoint ${name} uses mixer ${unknown.map((m) => `"${m}"`).join(', ')}, which this page does not know (layers ${layers})`,
        `This page runs ${listMixers()
          .map((m) => m.spec.name)
          .join(', ')}; generate with that checkpoint in the shiftmix CLI with the mixer's plugin (--plugin)`,
        'E_UNKNOWN_MIXER',
      );
    }
    return ShiftmixModel.create(config as unknown as Parameters<typeof ShiftmixModel.create>[0]);
  };
}

/** Loads checkpoint files into a model and its tokenizer; the caller disposes the model. */
async function loadFiles(name: string, files: Map<string, Uint8Array>) {
  const loaded = await loadCheckpointFiles(files, { name, createModel: knownMixersOnly(name) });
  if (loaded.tokenizer === undefined) {
    loaded.model.dispose();
    throw new DemoError(
      `checkpoint ${name} has no tokenizer.json`,
      'Open a checkpoint written by shiftmix train or by this page, which save their tokenizer',
      'E_NO_TOKENIZER',
    );
  }
  return { ...loaded, tokenizer: await tokenizerFromJSON(loaded.tokenizer, `checkpoint ${name}'s tokenizer.json`) };
}

async function openCheckpoint(id: number, request: Extract<TrainRequest, { type: 'open' }>): Promise<void> {
  const { backend, note } = await chooseBackend(request.provider);
  const files = new Map(Object.entries(request.files));
  const { model, tokenizer, config, state } = await loadFiles(request.name, files);
  trained?.model.dispose();
  trained = { model, tokenizer };
  opened = { name: request.name, files };
  const { layers, dim, heads, contextLength } = model.config;
  post({
    type: 'opened',
    id,
    info: {
      name: request.name,
      layers,
      dim,
      heads,
      contextLength,
      vocabSize: tokenizer.vocabSize,
      params: model.paramCount(),
      step: state.step,
      resumable: config.files['optimizer.safetensors'] !== undefined,
      backend,
      note,
    },
  });
}

/** Core's recipe from the page's: the tokenizer is the data's, not the trainer's; a tenth of the steps warm up (at most 100). */
function trainingRecipe({ tokenizer: _tokenizer, ...recipe }: RecipeChoice): Partial<TrainRecipe> {
  return { ...recipe, warmup: Math.min(100, Math.floor(recipe.steps / 10)) };
}

/** The model a `train` request starts from: a new one, or the opened checkpoint's (fine-tuning it). */
async function startingPoint(request: Extract<TrainRequest, { type: 'train' }>): Promise<{ model: ShiftmixModel; tokenizer: Tokenizer; data: TextDataset }> {
  const { model: choice, recipe } = request;
  if (!choice.fromCheckpoint) {
    const tokenizer = recipe.tokenizer === 'gpt2' ? await Gpt2Tokenizer.load() : CharTokenizer.fromText(request.text);
    const data = new TextDataset(tokenizer.encode(request.text), { valFraction: 0.1 });
    const { dim, heads, contextLength, layers } = choice;
    return { model: ShiftmixModel.create({ vocabSize: tokenizer.vocabSize, dim, heads, contextLength, layers, seed: recipe.seed }), tokenizer, data };
  }
  if (!opened) throw new DemoError('no checkpoint is open', 'Open a checkpoint first (Open checkpoint folder… or Open checkpoint files…)', 'E_NO_CHECKPOINT');
  const { name, files } = opened;
  const { model, tokenizer } = await loadFiles(name, files);
  try {
    // The checkpoint's own characters: a text with others cannot be its training data.
    return { model, tokenizer, data: new TextDataset(tokenizer.encode(request.text), { valFraction: 0.1 }) };
  } catch (error) {
    model.dispose();
    if (isShiftmixError(error) && error.code === 'E_UNKNOWN_CHAR') {
      throw new DemoError(
        `${request.textName} has characters checkpoint ${name} was not trained on (${error.problem.replace(/^.*?: /, '')})`,
        'Train on from it with the text it was trained on, or one of its characters only',
        'E_UNKNOWN_CHAR',
      );
    }
    throw error;
  }
}

/** What a training session gives train() or resumeFromFiles: the stop, checkpoints and progress. */
interface SessionHooks {
  signal: AbortSignal;
  onCheckpoint: NonNullable<Parameters<typeof train>[0]['onCheckpoint']>;
  onProgress: NonNullable<Parameters<typeof train>[0]['onProgress']>;
}

/**
 * Runs one training session (a new run, or a stopped one continued): progress after every
 * step, the run's last checkpoint (at each evaluation, and where a stop ends it, as the
 * CLI's last/) and the summary. The trained model becomes the one generate and export use.
 */
async function session(id: number, tokenizer: Tokenizer, run: (hooks: SessionHooks) => Promise<TrainSummary & { model: ShiftmixModel }>): Promise<void> {
  abort = new AbortController();
  const kept: { last?: { step: number; files: Map<string, Uint8Array> } } = {};
  try {
    const summary = await run({
      signal: abort.signal,
      onCheckpoint: async (kind, contents) => {
        if (kind === 'last') kept.last = { step: contents.state.step, files: await checkpointFiles(contents) };
      },
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
    trained = { model: summary.model, tokenizer };
    if (kept.last) {
      const { step, files } = kept.last;
      const buffers = [...new Set([...files.values()].map((bytes) => bytes.buffer as ArrayBuffer))];
      self.postMessage({ type: 'checkpoint', id, step, files: Object.fromEntries(files) } satisfies TrainResponse, buffers);
    }
    const { steps, trainLoss, valLoss, bestValLoss, seconds, tokensPerSecond, stepKind, stopped } = summary;
    post({ type: 'done', id, result: { steps, trainLoss, valLoss, bestValLoss, seconds, tokensPerSecond, stepKind, stopped } });
  } finally {
    abort = null;
  }
}

async function runTraining(id: number, request: Extract<TrainRequest, { type: 'train' }>): Promise<void> {
  const { backend, note } = await chooseBackend(request.provider);
  trained?.model.dispose();
  trained = null;
  const { recipe } = request;
  const { model, tokenizer, data } = await startingPoint(request);
  post({
    type: 'started',
    id,
    info: { backend, note, params: model.paramCount(), vocabSize: tokenizer.vocabSize, trainTokens: data.train.length },
  });
  try {
    await session(id, tokenizer, async (hooks) => ({
      ...(await train({ model, data, tokenizer, recipe: trainingRecipe(recipe), ...hooks })),
      model,
    }));
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Goes on with a stopped run from its last checkpoint, to the steps of its recipe: exactly
 * as if it had not stopped (the same batches, dropout and weights; core's resume).
 */
async function continueRun(id: number, request: Extract<TrainRequest, { type: 'continue' }>): Promise<void> {
  const { backend, note } = await chooseBackend(request.provider);
  const files = new Map(Object.entries(request.files));
  const tokenizerFile = files.get('tokenizer.json');
  if (!tokenizerFile) throw new DemoError(`checkpoint ${request.name} has no tokenizer.json`, 'Train the model again', 'E_NO_TOKENIZER');
  const tokenizer = await tokenizerFromJSON(JSON.parse(new TextDecoder().decode(tokenizerFile)), `checkpoint ${request.name}'s tokenizer.json`);
  const data = new TextDataset(tokenizer.encode(request.text), { valFraction: 0.1 });
  trained?.model.dispose();
  trained = null;
  post({
    type: 'started',
    id,
    info: { backend, note, params: request.params, vocabSize: tokenizer.vocabSize, trainTokens: data.train.length },
  });
  await session(id, tokenizer, (hooks) => resumeFromFiles(files, { data, name: request.name, createModel: knownMixersOnly(request.name), ...hooks }));
}

async function sample(id: number, request: Extract<TrainRequest, { type: 'generate' }>): Promise<void> {
  if (!trained) throw new DemoError('no model has finished training yet', 'Train a model or open a checkpoint first, then generate', 'E_NO_MODEL');
  const { model, tokenizer } = trained;
  const { prompt, maxTokens, temperature, topK, seed } = request;
  const text = await generate(model, tokenizer, { prompt, maxTokens, temperature, topK, seed });
  post({ type: 'text', id, text });
}

/** The model's logits for every position of `prompt`, [T][vocab]: the numbers the CLI's model gives for the same checkpoint. */
async function logits(id: number, request: Extract<TrainRequest, { type: 'logits' }>): Promise<void> {
  if (!trained) throw new DemoError('no model has finished training yet', 'Train a model or open a checkpoint first', 'E_NO_MODEL');
  const { model, tokenizer } = trained;
  const ids = Array.from(tokenizer.encode(request.prompt));
  if (ids.length === 0 || ids.length > model.config.contextLength) {
    throw new DemoError(`the prompt has ${ids.length} characters`, `Give 1 to ${model.config.contextLength} characters (the model's context)`, 'E_PROMPT');
  }
  const out = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { training: false }));
  const [rows] = (await out.array()) as number[][][];
  out.dispose();
  post({ type: 'logits', id, logits: rows });
}

/** The last model trained or opened as `shiftmix export` writes it, made here in the worker. */
async function exportOnnx(id: number): Promise<void> {
  if (!trained) throw new DemoError('no model has finished training yet', 'Train a model or open a checkpoint first, then export it', 'E_NO_MODEL');
  const { model, tokenizer } = trained;
  // The export reads the weights synchronously; reading them once first keeps their host
  // copies, so no synchronous download from the GPU is needed.
  await Promise.all([...model.weights().values()].map((w) => w.data()));
  const exported = exportModel(model, { tokenizer: tokenizer.toJSON() });
  post({ type: 'exported', id, name: model.config.layers, files: Object.fromEntries(exportFiles(exported)) });
}

async function handle(request: Exclude<TrainRequest, { type: 'stop' }>): Promise<void> {
  try {
    if (request.type === 'train') await runTraining(request.id, request);
    else if (request.type === 'continue') await continueRun(request.id, request);
    else if (request.type === 'open') await openCheckpoint(request.id, request);
    else if (request.type === 'logits') await logits(request.id, request);
    else if (request.type === 'export') await exportOnnx(request.id);
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
