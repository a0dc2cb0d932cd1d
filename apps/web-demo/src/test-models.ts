import { CharTokenizer, generate, ShiftmixModel, selectBackend, tf, type GenerateOptions, type Tokenizer } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';
import { exportModel } from '@shiftmix/onnx';
import * as ort from 'onnxruntime-web';

export const TEXT = 'To be, or not to be: that is the question.\n';

let ready: Promise<void> | null = null;

/** The cpu backend and the mixers the tests export, once per test file. */
export function setup(): Promise<void> {
  ort.env.wasm.numThreads = 1;
  ready ??= selectBackend('cpu').then(() => {
    registerAttention();
    registerFusion();
    registerHsmAb();
  });
  return ready;
}

export interface TinyExport {
  decode: Uint8Array;
  full: Uint8Array;
  manifestText: string;
  /** What core's generate (tfjs, as in Node) gave for `options.sample`, before the export. */
  nodeText?: string;
}

/**
 * A tiny exported model with weights of order one (seeded), so that logits differ
 * clearly between positions and any decoding mistake shows.
 */
export async function tinyExport(
  layers: string,
  contextLength: number,
  seed = 3,
  options: { tokenizer?: Tokenizer; sample?: GenerateOptions } = {},
): Promise<TinyExport> {
  await setup();
  const tokenizer = options.tokenizer ?? CharTokenizer.fromText(TEXT);
  const model = ShiftmixModel.create({ vocabSize: tokenizer.vocabSize, dim: 16, heads: 2, contextLength, layers, ffn: 32, seed });
  try {
    let i = 0;
    for (const [name, w] of model.weights()) {
      tf.tidy(() => {
        const noise = tf.randomNormal(w.shape, 0, 0.5, 'float32', seed * 100 + i++);
        w.assign(name.endsWith('gamma') ? tf.add(noise, 1) : noise);
      });
    }
    const nodeText = options.sample ? await generate(model, tokenizer, options.sample) : undefined;
    const exported = exportModel(model, { tokenizer: tokenizer.toJSON() });
    return { decode: exported.decode, full: exported.model, manifestText: JSON.stringify(exported.manifest), nodeText };
  } finally {
    model.dispose();
  }
}

/** Logits [T, V] of model.onnx for one sequence: the reference decoding must match. */
export async function fullLogits(full: Uint8Array, ids: number[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(full, { executionProviders: ['wasm'] });
  try {
    const input = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const logits = (await session.run({ input_ids: input })).logits;
    const v = logits.dims[2];
    const data = logits.data as Float32Array;
    return ids.map((_, t) => data.slice(t * v, (t + 1) * v));
  } finally {
    await session.release();
  }
}
