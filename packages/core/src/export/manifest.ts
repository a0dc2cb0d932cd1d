// model.json, the manifest @shiftmix/onnx writes next to an exported model's two graphs,
// as a runtime reads it (the web demo): everything it needs to tokenize, feed both graphs
// and start decoding from zeros, without reading the ONNX files first.

export const MANIFEST_FORMAT = 'shiftmix-onnx';
export const MANIFEST_VERSION = 1;

/** An axis of a state tensor: a size, "batch", or a symbol for an axis that grows while decoding. */
export type StateDim = number | string;

/** One state tensor of the decode graph: an input, and the output that replaces it. */
export interface StateEntry {
  /** "blocks.<i>.<tensor>", unique in the model. */
  name: string;
  layer: number;
  mixer: string;
  /** The key in the mixer's `MixerState.tensors`. */
  tensor: string;
  /** Graph input and output names in decode.onnx. */
  input: string;
  output: string;
  dtype: 'float32' | 'int32' | 'int64' | 'bool';
  /** Shape of the input: "batch" for the batch axis, a symbol for axes that grow while decoding. */
  shape: StateDim[];
  /** Shape of the output (growing axes get their own symbol). */
  outputShape: StateDim[];
  /** The initial state for one sequence is zeros of this shape; set `batchAxis` to the batch size. */
  initialShape: number[];
  batchAxis: number;
}

export interface OnnxManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: typeof MANIFEST_VERSION;
  opset: number;
  files: { model: string; decode: string };
  /** The model config as the stack stores it (layers, dim, contextLength, ...). */
  config: Record<string, unknown>;
  vocabSize: number;
  positional: 'learned' | 'none';
  /** Longest sequence either graph accepts; null when unbounded (shift-only stacks). */
  maxSequenceLength: number | null;
  layers: { index: number; mixer: string; shifts: number[]; config: Record<string, unknown> }[];
  model: { inputs: string[]; outputs: string[] };
  /**
   * decode.onnx feeds: input_ids int64 [batch, 1], position int64 scalar (the index of
   * the token, 0 for the first), and every state input; it returns logits and, per state
   * entry, the tensor to feed as that entry's input at the next position.
   */
  decode: { inputs: string[]; outputs: string[] };
  state: StateEntry[];
  /** The tokenizer's toJSON() (tokenizerFromJSON restores it, in Node or a page). */
  tokenizer: unknown;
}
