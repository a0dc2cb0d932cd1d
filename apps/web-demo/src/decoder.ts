import * as ort from 'onnxruntime-web';
import type { Manifest, StateSpec } from './manifest.js';
import { DemoError } from './protocol.js';

const MISMATCH_FIX = 'model.json and decode.onnx come from different exports: pick files written together by shiftmix export';

function zeros(spec: StateSpec): ort.Tensor {
  const size = spec.initialShape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'float32') return new ort.Tensor('float32', new Float32Array(size), spec.initialShape);
  if (spec.dtype === 'int32') return new ort.Tensor('int32', new Int32Array(size), spec.initialShape);
  return new ort.Tensor('bool', new Uint8Array(size), spec.initialShape);
}

/** Checks that the graph has the inputs and outputs model.json promises. */
export function checkSessionAgainstManifest(session: ort.InferenceSession, manifest: Manifest): void {
  const missingIn = manifest.decodeInputs.filter((n) => !session.inputNames.includes(n));
  const missingOut = ['logits', ...manifest.state.map((s) => s.output)].filter((n) => !session.outputNames.includes(n));
  if (missingIn.length + missingOut.length > 0) {
    const listed = [...missingIn, ...missingOut].slice(0, 4).join(', ');
    throw new DemoError(
      `${manifest.decodeFile} lacks ${missingIn.length + missingOut.length} of the tensors model.json names (${listed})`,
      MISMATCH_FIX,
      'E_MODEL_MISMATCH',
    );
  }
}

/**
 * Runs decode.onnx one token at a time for one sequence, carrying the mixers' state
 * (ring buffers, KV caches) from each step's outputs to the next step's inputs.
 */
export class Decoder {
  private state = new Map<string, ort.Tensor>();
  private pos = 0;

  constructor(
    readonly session: ort.InferenceSession,
    readonly manifest: Manifest,
  ) {
    checkSessionAgainstManifest(session, manifest);
    this.reset();
  }

  /** The position the next token will take (0 after a reset). */
  get position(): number {
    return this.pos;
  }

  /** Back to position 0 with zero state (empty KV caches). */
  reset(): void {
    this.disposeState();
    for (const s of this.manifest.state) this.state.set(s.input, zeros(s));
    this.pos = 0;
  }

  /** Feeds `token` at the current position; returns the logits [V] for the next one. */
  async step(token: number): Promise<Float32Array> {
    const max = this.manifest.maxSequenceLength;
    if (max !== null && this.pos >= max) {
      throw new DemoError(`position ${this.pos} is past the model's context of ${max}`, 'Reset the decoder and feed the recent tokens again', 'E_CONTEXT_FULL');
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(token)), [1, 1]),
      position: new ort.Tensor('int64', BigInt64Array.of(BigInt(this.pos)), []),
    };
    for (const [name, tensor] of this.state) feeds[name] = tensor;
    const out = await this.session.run(feeds);
    const logits = out.logits;
    const vocab = this.manifest.tokenizer.vocabSize;
    if (!logits || logits.dims.length !== 3 || logits.dims[2] !== vocab) {
      for (const t of Object.values(out)) t.dispose();
      throw new DemoError(
        `the model returns logits of shape [${logits?.dims.join(', ')}] but the tokenizer has ${vocab} tokens`,
        'The model and its tokenizer do not belong together: export them again from the same checkpoint',
        'E_VOCAB_MISMATCH',
      );
    }
    const next = new Map<string, ort.Tensor>();
    for (const s of this.manifest.state) next.set(s.input, out[s.output]);
    this.disposeState();
    this.state = next;
    this.pos++;
    const data = (await logits.getData()) as Float32Array;
    logits.dispose();
    return data;
  }

  /** Bytes the carried state holds now: constant for shift rings, growing with the position for KV caches. */
  stateBytes(): number {
    let bytes = 0;
    for (const t of this.state.values()) bytes += t.dims.reduce((a, b) => a * b, 1) * (t.type === 'bool' ? 1 : 4);
    return bytes;
  }

  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    // GPU-located state holds GPU buffers until disposed; CPU tensors ignore it.
    for (const t of this.state.values()) if (t.location === 'gpu-buffer') t.dispose();
    this.state.clear();
  }
}
