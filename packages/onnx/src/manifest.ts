import type { ExportableModel } from './export.js';
import type { StateEntry } from './state-layout.js';

export const MANIFEST_FORMAT = 'shiftmix-onnx';
export const MANIFEST_VERSION = 1;

/**
 * model.json, written next to the two graphs: everything a runtime needs to tokenize,
 * feed both graphs and start decoding from zeros, without reading the ONNX files first.
 */
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
  tokenizer: unknown;
}

function plain(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

export function buildManifest(model: ExportableModel, opset: number, state: StateEntry[], tokenizer: unknown): OnnxManifest {
  return {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_VERSION,
    opset,
    files: { model: 'model.onnx', decode: 'decode.onnx' },
    config: plain(model.config) as Record<string, unknown>,
    vocabSize: model.config.vocabSize,
    positional: model.positional,
    maxSequenceLength: Number.isFinite(model.maxSequenceLength) ? model.maxSequenceLength : null,
    layers: model.blocks.map((b) => ({
      index: b.index,
      mixer: b.mixerName,
      shifts: [...b.shifts],
      config: plain(b.mixerConfig) as Record<string, unknown>,
    })),
    model: { inputs: ['input_ids'], outputs: ['logits'] },
    decode: {
      inputs: ['input_ids', 'position', ...state.map((s) => s.input)],
      outputs: ['logits', ...state.map((s) => s.output)],
    },
    state,
    tokenizer: plain(tokenizer),
  };
}
