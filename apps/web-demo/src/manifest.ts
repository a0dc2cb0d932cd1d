import { isShiftmixError, tokenizerFromJSON, type StateEntry, type Tokenizer } from '@shiftmix/core/text';
import { DemoError } from './protocol.js';

/** The fields of a decode-state tensor of model.json (core's StateEntry) that decoding reads. */
export type StateSpec = Pick<StateEntry, 'name' | 'input' | 'output' | 'initialShape' | 'batchAxis'> & { dtype: 'float32' | 'int32' | 'bool' };

/** The parts of an exported model's model.json that decoding needs. */
export interface Manifest {
  name: string;
  layers: string;
  dim: number;
  contextLength: number;
  vocabSize: number;
  maxSequenceLength: number | null;
  decodeFile: string;
  decodeInputs: string[];
  decodeOutputs: string[];
  state: StateSpec[];
  tokenizer: Tokenizer;
}

const FIX = 'Pick the model.json written by shiftmix export (next to decode.onnx), or export the model again';

function fail(problem: string): never {
  throw new DemoError(`model.json ${problem}`, FIX, 'E_BAD_MANIFEST');
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(`has no list of ${what}`);
  return value as string[];
}

function stateSpec(value: unknown, i: number): StateSpec {
  const s = value as Partial<StateSpec> | null;
  const where = `state[${i}]`;
  if (!s || typeof s.name !== 'string' || typeof s.input !== 'string' || typeof s.output !== 'string') fail(`${where} lacks name, input or output`);
  if (s.dtype !== 'float32' && s.dtype !== 'int32' && s.dtype !== 'bool') fail(`${where} has dtype ${JSON.stringify(s.dtype)}`);
  const shape = s.initialShape;
  if (!Array.isArray(shape) || shape.some((n) => !Number.isInteger(n) || n < 0)) fail(`${where} has no valid initialShape`);
  if (!Number.isInteger(s.batchAxis) || s.batchAxis! < 0 || s.batchAxis! >= shape.length) fail(`${where} has no valid batchAxis`);
  return { name: s.name, input: s.input, output: s.output, dtype: s.dtype, initialShape: shape, batchAxis: s.batchAxis! };
}

/**
 * Parses and checks model.json text and restores its tokenizer (characters, GPT-2's BPE
 * or a Hugging Face tokenizer.json), so the page tokenizes as Node did; `name` labels the model.
 */
export async function parseManifest(text: string, name: string): Promise<Manifest> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DemoError(`model.json is not valid JSON (${(error as Error).message})`, FIX, 'E_BAD_MANIFEST');
  }
  if (typeof json !== 'object' || json === null) fail('is not a JSON object');
  if (json.format !== 'shiftmix-onnx') fail(`has format ${JSON.stringify(json.format)}, not "shiftmix-onnx"`);
  if (json.formatVersion !== 1) fail(`has formatVersion ${JSON.stringify(json.formatVersion)}; this demo reads version 1`);
  const config = (json.config ?? {}) as Record<string, unknown>;
  const files = (json.files ?? {}) as Record<string, unknown>;
  const decode = (json.decode ?? {}) as Record<string, unknown>;
  const vocabSize = json.vocabSize;
  if (!Number.isInteger(vocabSize) || (vocabSize as number) < 1) fail('has no vocabSize');
  const max = json.maxSequenceLength;
  if (max !== null && !(Number.isInteger(max) && (max as number) > 0)) fail('has an invalid maxSequenceLength');
  if (!Array.isArray(json.state)) fail('has no state list');
  const state = (json.state as unknown[]).map(stateSpec);
  const tokenizer = await tokenizerFromJSON(json.tokenizer, 'the tokenizer of model.json').catch((error: unknown) => {
    if (isShiftmixError(error)) throw new DemoError(error.problem, error.fix, 'E_BAD_MANIFEST');
    throw error;
  });
  if (tokenizer.vocabSize !== vocabSize) {
    throw new DemoError(
      `the tokenizer in model.json has ${tokenizer.vocabSize} tokens but the model has a vocabulary of ${vocabSize}`,
      'The model and its tokenizer do not belong together: export them again from the same checkpoint',
      'E_VOCAB_MISMATCH',
    );
  }
  return {
    name,
    layers: typeof config.layers === 'string' ? config.layers : '?',
    dim: Number(config.dim) || 0,
    contextLength: Number(config.contextLength) || (max as number | null) || 0,
    vocabSize: vocabSize as number,
    maxSequenceLength: max as number | null,
    decodeFile: typeof files.decode === 'string' ? files.decode : 'decode.onnx',
    decodeInputs: strings(decode.inputs, 'decode inputs'),
    decodeOutputs: strings(decode.outputs, 'decode outputs'),
    state,
    tokenizer,
  };
}
