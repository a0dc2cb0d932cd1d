import { ShiftmixError, type Mixer, type OnnxLowering, type Variable } from '@shiftmix/core';
import { MIN_OPSET, checkModel } from './check.js';
import { GraphBuilder } from './graph-builder.js';
import { lowerFfn, lowerLayerNorm } from './layers.js';
import { buildManifest, type OnnxManifest } from './manifest.js';
import { describeMixerState, type StateEntry } from './state-layout.js';

/** The highest opset the exporter is tested against (onnxruntime-web runs it). */
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

/** What the exporter reads from a block of the stack (core's ModelBlock has it). */
export interface ExportableBlock {
  readonly index: number;
  readonly mixerName: string;
  readonly mixer: Mixer;
  readonly shifts: readonly number[];
  readonly mixerConfig: Record<string, unknown>;
  readonly ln1: { gamma: Variable; beta: Variable };
  readonly ln2: { gamma: Variable; beta: Variable };
  readonly ffn: { w1: Variable; b1: Variable; w2: Variable; b2: Variable };
}

/** What the exporter reads from a model (core's ShiftmixModel has it). */
export interface ExportableModel {
  readonly config: { vocabSize: number; dim: number; contextLength: number; layers: string };
  readonly positional: 'learned' | 'none';
  readonly maxSequenceLength: number;
  readonly blocks: readonly ExportableBlock[];
  weights(): Map<string, Variable>;
}

export interface ExportOptions {
  /** ONNX opset, 17 (default) to 21. */
  opset?: number;
  /** Stored in the manifest as JSON (a tokenizer's toJSON() is used when it has one). */
  tokenizer?: unknown;
}

export interface ModelExport {
  /** Full sequence: input_ids int64 [batch, sequence] -> logits [batch, sequence, vocab]. */
  model: Uint8Array;
  /** One decode step: input_ids [batch, 1], position, state -> logits [batch, 1, vocab], next state. */
  decode: Uint8Array;
  manifest: OnnxManifest;
}

function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ShiftmixError(
      `ONNX opset ${opset} is not supported`,
      `Use an opset from ${MIN_OPSET} to ${MAX_OPSET} (default ${DEFAULT_OPSET})`,
      'E_ONNX_OPSET',
    );
  }
}

function checkTokenizer(model: ExportableModel, tokenizer: unknown): void {
  const size = (tokenizer as { vocabSize?: unknown } | null | undefined)?.vocabSize;
  if (typeof size === 'number' && size !== model.config.vocabSize) {
    throw new ShiftmixError(
      `the tokenizer has ${size} tokens but the model's vocabulary has ${model.config.vocabSize}`,
      'Export the model with the tokenizer it was trained with',
      'E_ONNX_TOKENIZER',
    );
  }
}

function weight(model: ExportableModel, name: string): Variable {
  const w = model.weights().get(name);
  if (!w) throw new ShiftmixError(`the model has no weight "${name}"`, 'Export a model created by ShiftmixModel', 'E_ONNX_MODEL');
  return w;
}

function checkLowerable(model: ExportableModel): void {
  const missing = model.blocks.filter((b) => typeof b.mixer.toOnnx !== 'function');
  if (missing.length) {
    const names = [...new Set(missing.map((b) => b.mixerName))];
    throw new ShiftmixError(
      `mixer ${names.map((n) => `"${n}"`).join(', ')} (block ${missing.map((b) => b.index).join(', ')}) has no ONNX lowering (toOnnx)`,
      `Implement toOnnx in ${names.length > 1 ? 'those mixers' : 'that mixer'}, or export a model whose layers all have one`,
      'E_ONNX_UNSUPPORTED',
    );
  }
}

/** Lowers one pre-norm block; in step mode returns the mixer's next-state value names too. */
function lowerBlock(g: GraphBuilder, x: string, block: ExportableBlock, lowering: OnnxLowering): { x: string; state?: Record<string, string> } {
  return g.scoped(`blocks.${block.index}.`, () => {
    const u = lowerLayerNorm(g, x, 'ln1', block.ln1.gamma, block.ln1.beta); // [B, T, D]
    const mixed = g.scoped('mixer.', () => block.mixer.toOnnx!(g, u, lowering));
    const [h] = g.add('Add', [x, mixed.output]);
    const v = lowerLayerNorm(g, h, 'ln2', block.ln2.gamma, block.ln2.beta);
    const [out] = g.add('Add', [h, lowerFfn(g, v, 'ffn', block.ffn)]);
    return { x: out, state: mixed.state };
  });
}

/** Final layer norm and the LM head tied to the embedding: x [B, T, D] -> logits [B, T, V]. */
function lowerHead(g: GraphBuilder, x: string, model: ExportableModel, wte: string): string {
  const normed = lowerLayerNorm(g, x, 'lnf', weight(model, 'lnf.gamma'), weight(model, 'lnf.beta'));
  const [wteT] = g.add('Transpose', [wte], { perm: [1, 0] }); // [D, V]
  return g.add('MatMul', [normed, wteT])[0];
}

function buildFull(model: ExportableModel, opset: number): Uint8Array {
  const g = new GraphBuilder(opset, 'shiftmix_full');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const wte = g.weight('wte', weight(model, 'wte'));
  let [x] = g.add('Gather', [wte, ids], { axis: 0 }); // [B, T, D]
  if (model.positional === 'learned') {
    const wpe = g.weight('wpe', weight(model, 'wpe'));
    const [length] = g.add('Shape', [ids], { start: 1, end: 2 }); // [1] = T
    const [positions] = g.add('Slice', [wpe, g.int64([0]), length, g.int64([0])]); // [T, D]
    [x] = g.add('Add', [x, positions]);
  }
  for (const block of model.blocks) x = lowerBlock(g, x, block, { mode: 'full' }).x;
  g.output('logits', lowerHead(g, x, model, wte), 'float32', ['batch', 'sequence', model.config.vocabSize]);
  return g.encode({ 'shiftmix.graph': 'full', 'shiftmix.layers': model.config.layers });
}

function buildDecode(model: ExportableModel, opset: number, state: StateEntry[]): Uint8Array {
  const g = new GraphBuilder(opset, 'shiftmix_decode');
  const ids = g.input('input_ids', 'int64', ['batch', 1]);
  const position = g.input('position', 'int64', []);
  for (const s of state) g.input(s.input, s.dtype, s.shape);
  const wte = g.weight('wte', weight(model, 'wte'));
  let [x] = g.add('Gather', [wte, ids], { axis: 0 }); // [B, 1, D]
  if (model.positional === 'learned') {
    const wpe = g.weight('wpe', weight(model, 'wpe'));
    const [row] = g.add('Gather', [wpe, position], { axis: 0 }); // [D]
    [x] = g.add('Add', [x, row]);
  }
  const outputs: [StateEntry, string][] = [];
  for (const block of model.blocks) {
    const own = state.filter((s) => s.layer === block.index);
    const inputs = Object.fromEntries(own.map((s) => [s.tensor, s.input]));
    const lowered = lowerBlock(g, x, block, { mode: 'step', state: inputs, position });
    x = lowered.x;
    const next = lowered.state ?? {};
    const expected = own.map((s) => s.tensor).sort();
    const got = Object.keys(next).sort();
    if (expected.join('\n') !== got.join('\n')) {
      throw new ShiftmixError(
        `mixer "${block.mixerName}" (block ${block.index}) lowered a decode step whose next state has tensors [${got.join(', ')}], but its initState has [${expected.join(', ')}]`,
        "Return every state tensor of initState, under the same names, from toOnnx's step lowering",
        'E_ONNX_STATE',
      );
    }
    for (const s of own) outputs.push([s, next[s.tensor]]);
  }
  g.output('logits', lowerHead(g, x, model, wte), 'float32', ['batch', 1, model.config.vocabSize]);
  for (const [s, value] of outputs) g.output(s.output, value, s.dtype, s.outputShape);
  return g.encode({ 'shiftmix.graph': 'decode', 'shiftmix.layers': model.config.layers });
}

/**
 * Exports a model as two ONNX graphs and a manifest. Every mixer of the stack must
 * implement `toOnnx`; each graph is decoded again and checked before it is returned.
 */
export function exportModel(model: ExportableModel, options: ExportOptions = {}): ModelExport {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  checkLowerable(model);
  checkTokenizer(model, options.tokenizer);
  const state = model.blocks.flatMap((b) => describeMixerState(b.mixer, b.index, b.mixerName, model.config.dim));
  const full = buildFull(model, opset);
  const decode = buildDecode(model, opset, state);
  checkModel(full);
  checkModel(decode);
  return { model: full, decode, manifest: buildManifest(model, opset, state, options.tokenizer) };
}
