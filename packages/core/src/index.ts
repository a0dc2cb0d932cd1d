export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from './tf.js';
export { ShiftmixError, isShiftmixError } from './errors.js';
export { Rng } from './rng.js';
export {
  MIXER_SPECIFICATION_VERSION,
  type AnyMixerSpec,
  type ForwardOptions,
  type Mixer,
  type MixerContext,
  type MixerSpec,
  type MixerState,
  type WeightInit,
} from './contract.js';
export type { OnnxAttribute, OnnxGraph, OnnxLowered, OnnxLowering } from './onnx-graph.js';
export { getMixer, hasMixer, listMixers, registerMixer, setRegistryWarningHandler, unregisterMixer, type RegisteredMixer } from './registry.js';
export { computeShiftSchedule, type ScheduleKind, type ScheduleResult, type ShiftSchedule } from './schedule.js';
export { createWeightInit } from './init.js';
export { dropout, gelu, layerNorm, linear, shiftTime, variableFrom } from './layers.js';
export { crossEntropy } from './kernels/cross-entropy.js';
export {
  activeBackend,
  BACKEND_NAMES,
  selectBackend,
  setWasmFiles,
  type BackendInfo,
  type BackendName,
  type BackendThreads,
  type WasmFiles,
} from './backend.js';
export { applyRope, cachedAttention, causalMask, ropeTables } from './ops/attention.js';
export { causalAttention, packedCausalAttention, type CausalAttentionOptions } from './kernels/attention.js';
export { checkShifts, checkStepInput, createShiftRing, readShiftRing, shiftRingSize, writeShiftRing } from './ops/shift.js';
export { onnxGroupShift, onnxLinear, onnxReadShiftRing, onnxWriteShiftRing } from './onnx-graph.js';
export {
  assignSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  safetensorsToTensors,
  tensorsToSafetensors,
  variablesToSafetensors,
  type AssignOptions,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsFile,
} from './checkpoint/safetensors.js';
export {
  DEFAULT_MODEL_CONFIG,
  parseLayerParts,
  parseLayerPattern,
  resolveModelConfig,
  type LayerPart,
  type ModelConfig,
  type PositionalKind,
  type StackOptions,
} from './model/config.js';
export { ShiftmixModel } from './model/model.js';
export { checkTrainingFits, type TrainingFootprint } from './model/footprint.js';
export { disposeModelState, type ModelState } from './model/state.js';
export type { ModelBlock } from './model/block.js';
export {
  CharTokenizer,
  Gpt2Tokenizer,
  HfTokenizer,
  TOKENIZER_NAMES,
  TokenTextStream,
  tokenizerFromJSON,
  type CharTokenizerJSON,
  type Gpt2TokenizerJSON,
  type HfTokenizerJSON,
  type Tokenizer,
  type TokenizerJSON,
  type TokenizerName,
} from './tokenizer/index.js';
export { isTokenizerFile, loadTokenizer } from './tokenizer/load.js';
export { TextDataset, type Batch, type BatchArrays, type Split, type TextDatasetOptions } from './data/dataset.js';
export { TokenFileDataset, type TokenFileOptions, type TokenFilePaths } from './data/token-file.js';
export { LLMC_HEADER_BYTES, LLMC_MAGIC, LLMC_VERSION, tokenFileBytes, type TokenFileFormat } from './data/token-format.js';
export { loadTextFile } from './data/load.js';
export { loadCorpus, type Corpus, type CorpusOptions } from './data/corpus.js';
export { generate, type GenerateOptions, type TextTokenizer } from './generate/generate.js';
export { bitsPerByte } from './train/bits.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWOptions, type AdamWState, type ClipAndApplyResult } from './train/adamw.js';
export { DEFAULT_RECIPE, resolveRecipe, type TrainRecipe } from './train/recipe.js';
export { train, type TrainOptions } from './train/trainer.js';
export { resume, resumeFromFiles, type ResumeOptions } from './train/resume.js';
export { DivergedError, isDivergedError } from './train/divergence.js';
export { createProgressBar, type ProgressBar, type ProgressBarOptions, type ProgressStream } from './train/progress.js';
export type { MetricsRecord, ProgressEvent, SerializableTokenizer, TrainableModel, TrainingData, TrainSummary } from './train/types.js';
export { saveCheckpoint, type CheckpointContents } from './checkpoint/save.js';
export { loadCheckpoint, readCheckpointInfo, type LoadCheckpointOptions, type LoadedCheckpoint } from './checkpoint/load.js';
// The same checkpoints as files in memory, for a browser or a web worker (no Node module reached).
export { checkpointFiles } from './checkpoint/encode.js';
export { loadCheckpointFiles } from './checkpoint/decode.js';
export type { CheckpointConfig, TrainState } from './checkpoint/format.js';
