import { tf, type ShiftmixModel } from '@shiftmix/core';
import * as ort from 'onnxruntime-web';
import { exportModel, type ModelExport } from './export.js';

// One wasm thread: tests share the machine's cores, and Node needs no worker setup then.
ort.env.wasm.numThreads = 1;

export type Feed = { dtype: 'float32'; data: Float32Array; dims: number[] } | { dtype: 'int64'; data: number[]; dims: number[] };

export interface OrtOutput {
  data: Float32Array;
  dims: number[];
}

function toOrt(feed: Feed): ort.Tensor {
  return feed.dtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(feed.data.map((v) => BigInt(v))), feed.dims)
    : new ort.Tensor('float32', feed.data, feed.dims);
}

/** An onnxruntime-web (wasm) session that returns every output as float32. */
export class OrtModel {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(bytes: Uint8Array): Promise<OrtModel> {
    return new OrtModel(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
  }

  async run(feeds: Record<string, Feed>): Promise<Record<string, OrtOutput>> {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, toOrt(f)]));
    const results = await this.session.run(inputs);
    const out: Record<string, OrtOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      const data = tensor.data;
      out[name] = {
        data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number | bigint>, Number),
        dims: [...tensor.dims],
      };
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export async function runOnnx(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<Record<string, OrtOutput>> {
  const session = await OrtModel.load(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Largest absolute elementwise difference; Infinity when the sizes differ, NaN when either has one. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    m = Math.max(m, d);
  }
  return m;
}

/** Random token ids [batch, length] from a fixed seed. */
export function randomTokens(batch: number, length: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: batch * length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

/**
 * Gives every weight of `model` values of order one (seeded), so that a lowering error
 * anywhere moves the logits far past the tolerance; fresh GPT-2 init weights are so small
 * that, e.g., a wrong GELU cubic term changes the logits by less than 1e-4.
 */
export function scrambleWeights(model: ShiftmixModel, seed: number, std = 0.5): void {
  let i = 0;
  for (const [name, w] of model.weights()) {
    const noise = tf.randomNormal(w.shape, 0, std, 'float32', seed + i++);
    const value = name.endsWith('gamma') ? tf.add(noise, 1) : noise;
    w.assign(value);
    noise.dispose();
    value.dispose();
  }
}

export interface Parity {
  /** model.onnx vs tfjs forward, per sequence length tried. */
  full: number[];
  /** decode.onnx step by step vs model.onnx at every position. */
  decode: number;
  exported: ModelExport;
}

/**
 * Exports `model` and measures both graphs against references: model.onnx against the
 * tfjs forward for each length in `lengths` (one session, so T really is dynamic), and
 * decode.onnx, fed its own next state token by token from zeros, against model.onnx.
 */
export async function measureParity(model: ShiftmixModel, options: { batch: number; lengths: number[]; opset?: number; seed?: number }): Promise<Parity> {
  const exported = exportModel(model, { opset: options.opset });
  const { batch } = options;
  const vocab = model.config.vocabSize;
  const full = await OrtModel.load(exported.model);
  const decode = await OrtModel.load(exported.decode);
  try {
    const fullDiffs: number[] = [];
    let lastLogits: OrtOutput | undefined;
    let tokens: number[] = [];
    for (const length of options.lengths) {
      tokens = randomTokens(batch, length, vocab, (options.seed ?? 7) + length);
      const reference = tf.tidy(() => model.forward(tf.tensor2d(tokens, [batch, length], 'int32'), { training: false }));
      const expected = reference.dataSync() as Float32Array;
      reference.dispose();
      lastLogits = (await full.run({ input_ids: { dtype: 'int64', data: tokens, dims: [batch, length] } })).logits;
      fullDiffs.push(lastLogits.dims.join() === [batch, length, vocab].join() ? maxAbsDiff(lastLogits.data, expected) : Infinity);
    }
    const length = options.lengths[options.lengths.length - 1];
    let state: Record<string, Feed> = {};
    for (const s of exported.manifest.state) {
      const dims = s.initialShape.map((n, i) => (i === s.batchAxis ? batch : n));
      state[s.input] = { dtype: 'float32', data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
    }
    let decodeDiff = 0;
    for (let t = 0; t < length; t++) {
      const ids = Array.from({ length: batch }, (_, b) => tokens[b * length + t]);
      const out = await decode.run({ input_ids: { dtype: 'int64', data: ids, dims: [batch, 1] }, position: { dtype: 'int64', data: [t], dims: [] }, ...state });
      const expected = new Float32Array(batch * vocab);
      for (let b = 0; b < batch; b++) expected.set(lastLogits!.data.subarray((b * length + t) * vocab, (b * length + t + 1) * vocab), b * vocab);
      decodeDiff = Math.max(decodeDiff, maxAbsDiff(out.logits.data, expected));
      state = Object.fromEntries(exported.manifest.state.map((s) => [s.input, { dtype: 'float32', data: out[s.output].data, dims: out[s.output].dims }]));
    }
    return { full: fullDiffs, decode: decodeDiff, exported };
  } finally {
    await full.release();
    await decode.release();
  }
}
