import { MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest, type StateEntry } from '@shiftmix/core/text';
import type { ExportableModel } from './export.js';

// The manifest's types belong to core (a runtime reads them from @shiftmix/core/text).
export { MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest };

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
