// @shiftmix/core/text: the part of core that needs no tensors, for runtimes that only
// decode an exported model (a browser page, @shiftmix/onnx's consumers): the tokenizers,
// the seeded Rng and sampling, the errors, and the types of the export manifest. Nothing
// here imports tfjs.
export * from './tokenizer/index.js';
export { Rng } from './rng.js';
export { checkSamplingOptions, sampleToken, type SamplingOptions } from './generate/sample.js';
export { ShiftmixError, isShiftmixError } from './errors.js';
export { MANIFEST_FORMAT, MANIFEST_VERSION, type OnnxManifest, type StateDim, type StateEntry } from './export/manifest.js';
