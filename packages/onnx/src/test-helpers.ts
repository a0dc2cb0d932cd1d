import * as ort from 'onnxruntime-web';

// One wasm thread: Node has no cross-origin isolation to worry about, and tests share
// the machine's cores.
ort.env.wasm.numThreads = 1;

export type Feed = { dtype: 'float32'; data: Float32Array; dims: number[] } | { dtype: 'int64'; data: number[]; dims: number[] };

export interface OrtOutput {
  data: Float32Array;
  dims: number[];
}

/** Runs an ONNX model in onnxruntime-web (wasm) and returns every output as float32. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<Record<string, OrtOutput>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      inputs[name] =
        feed.dtype === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(feed.data.map((v) => BigInt(v))), feed.dims)
          : new ort.Tensor('float32', feed.data, feed.dims);
    }
    const results = await session.run(inputs);
    const out: Record<string, OrtOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      const data = tensor.data;
      out[name] = {
        data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number | bigint>, Number),
        dims: [...tensor.dims],
      };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Largest absolute elementwise difference; Infinity when the sizes differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
