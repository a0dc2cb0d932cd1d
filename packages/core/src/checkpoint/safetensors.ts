import { ShiftmixError } from '../errors.js';
import { tf, type Tensor, type Variable } from '../tf.js';

/**
 * The safetensors format: 8 bytes little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { key: string } }`,
 * then the raw little-endian data, offsets relative to its start, with no holes.
 */
const ARRAY_TYPES = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as const;

export type SafetensorsDtype = keyof typeof ARRAY_TYPES;
/** F16 and BF16 data are their raw 16-bit patterns. */
export type SafetensorsData = InstanceType<(typeof ARRAY_TYPES)[SafetensorsDtype]>;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(problem: string, fix = 'The file is truncated or not a safetensors file; write it again'): never {
  throw new ShiftmixError(problem, fix, 'E_SAFETENSORS');
}

function elementCount(shape: number[]): number {
  return shape.reduce((n, s) => n * s, 1);
}

function checkEntry(name: string, entry: SafetensorsEntry): void {
  if (!(entry.dtype in ARRAY_TYPES)) fail(`tensor "${name}" has unknown dtype ${String(entry.dtype)}`, `Use one of ${Object.keys(ARRAY_TYPES).join(', ')}`);
  if (!Array.isArray(entry.shape) || entry.shape.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    fail(`tensor "${name}" has an invalid shape ${JSON.stringify(entry.shape)}`, 'A shape is a list of non-negative integers');
  }
  const expected = ARRAY_TYPES[entry.dtype];
  if (!(entry.data instanceof expected) || entry.data.length !== elementCount(entry.shape)) {
    fail(
      `tensor "${name}" (${entry.dtype} ${JSON.stringify(entry.shape)}) needs a ${expected.name} of ${elementCount(entry.shape)} elements`,
      'Pass data whose type and length match dtype and shape',
    );
  }
}

/** Serializes named tensors (sorted by name, so equal inputs give equal bytes). */
export function encodeSafetensors(tensors: Record<string, SafetensorsEntry>, metadata?: Record<string, string>): Uint8Array {
  if (!LITTLE_ENDIAN) fail('safetensors needs a little-endian platform', 'Run on a little-endian machine');
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') fail(`metadata "${key}" is not a string`, 'safetensors metadata maps strings to strings; JSON.stringify other values');
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail('a tensor is named "__metadata__"', 'Rename it: that key holds the file metadata');
    const entry = tensors[name];
    checkEntry(name, entry);
    define(header, name, { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + entry.data.byteLength] });
    offset += entry.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const name of names) {
    const { data } = tensors[name];
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return bytes;
}

/** Sets an own property even for names such as "__proto__" that plain assignment would misread. */
function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail('decodeSafetensors expects a Uint8Array', 'Pass the file contents as bytes (a Node Buffer works)');
  if (bytes.length < 8) fail(`the safetensors data is ${bytes.length} bytes, shorter than its 8-byte header length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) fail(`the safetensors header claims ${length} bytes`);
  if (8 + Number(length) > bytes.length) fail(`the safetensors header needs ${length} bytes but only ${bytes.length - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(length))));
  } catch {
    fail('the safetensors header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the safetensors header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart: 8 + Number(length) };
}

/** Parses safetensors bytes; truncated or inconsistent input is a ShiftmixError. Data is copied. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!LITTLE_ENDIAN) fail('safetensors needs a little-endian platform', 'Run on a little-endian machine');
  const { header, dataStart } = parseHeader(bytes);
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) fail('the safetensors __metadata__ is not an object');
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== 'string') fail(`safetensors metadata "${key}" is not a string`);
        define(metadata, key, value);
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in ARRAY_TYPES)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(info?.dtype)}`);
    const shape = info.shape as number[];
    if (!Array.isArray(shape) || shape.some((s) => !Number.isSafeInteger(s) || s < 0)) fail(`tensor "${name}" has an invalid shape`);
    const offsets = info.data_offsets as number[];
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`tensor "${name}" has invalid data_offsets`);
    }
    const [begin, end] = offsets;
    const Type = ARRAY_TYPES[dtype];
    if (end < begin || end - begin !== elementCount(shape) * Type.BYTES_PER_ELEMENT) {
      fail(`tensor "${name}" spans ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${elementCount(shape) * Type.BYTES_PER_ELEMENT}`);
    }
    if (end > dataLength) fail(`tensor "${name}" ends at byte ${end} of a ${dataLength}-byte data section`);
    spans.push({ name, begin, end });
    // Copy into a fresh, aligned buffer so typed views never see odd offsets. (A Node
    // Buffer's slice() is a view over the whole file, hence Uint8Array.prototype.slice.)
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    define(tensors, name, { dtype, shape, data: new Type(copy.buffer) as SafetensorsData });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const span of spans) {
    if (span.begin !== covered) fail(`tensor "${span.name}" starts at byte ${span.begin}, expected ${covered}: the data overlaps or has a hole`);
    covered = span.end;
  }
  if (covered !== dataLength) fail(`the data section has ${dataLength} bytes but the tensors cover ${covered}`);
  return { tensors, metadata };
}

/** Reads tfjs tensors (float32 or int32, as named) into safetensors entries. */
export function tensorsToSafetensors(tensors: Record<string, Tensor>): Record<string, SafetensorsEntry> {
  const out: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype === 'float32') out[name] = { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
    else if (t.dtype === 'int32') out[name] = { dtype: 'I32', shape: [...t.shape], data: Int32Array.from(t.dataSync() as Int32Array) };
    else fail(`tensor "${name}" has dtype ${t.dtype}`, 'Only float32 and int32 tensors can be saved');
  }
  return out;
}

/** Serializes named variables (weights) to safetensors bytes. */
export function variablesToSafetensors(variables: Record<string, Variable | Tensor>, metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensors(tensorsToSafetensors(variables), metadata);
}

/** Creates tfjs tensors from F32 and I32 entries; the caller owns (disposes) them. */
export function safetensorsToTensors(tensors: Record<string, SafetensorsEntry>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, entry] of Object.entries(tensors)) {
    if (entry.dtype === 'F32') out[name] = tf.tensor(entry.data as Float32Array, entry.shape, 'float32');
    else if (entry.dtype === 'I32') out[name] = tf.tensor(entry.data as Int32Array, entry.shape, 'int32');
    else fail(`tensor "${name}" is ${entry.dtype}`, 'Only F32 and I32 tensors load into tfjs; convert the file first');
  }
  return out;
}

export interface AssignOptions {
  /** When true (default) every variable must be in the file and every file tensor used. */
  strict?: boolean;
}

/**
 * Assigns safetensors bytes (or decoded entries) to variables of the same name and shape.
 * Returns the names assigned. Shape or dtype mismatches always throw; names that exist
 * on one side only throw unless `strict` is false.
 */
export function assignSafetensors(
  variables: Record<string, Variable>,
  source: Uint8Array | Record<string, SafetensorsEntry>,
  options: AssignOptions = {},
): string[] {
  const entries = source instanceof Uint8Array ? decodeSafetensors(source).tensors : source;
  const strict = options.strict ?? true;
  const missing = Object.keys(variables).filter((name) => !(name in entries));
  const unused = Object.keys(entries).filter((name) => !(name in variables));
  if (strict && (missing.length || unused.length)) {
    fail(
      `the weights do not match: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unused.length ? '; ' : ''}${unused.length ? `unexpected ${unused.join(', ')}` : ''}`,
      'Load weights saved from a model with the same layer pattern and sizes',
    );
  }
  const assigned: string[] = [];
  for (const [name, variable] of Object.entries(variables)) {
    const entry = entries[name];
    if (!entry) continue;
    const wantType = variable.dtype === 'int32' ? 'I32' : 'F32';
    if (entry.dtype !== wantType || entry.shape.join(',') !== variable.shape.join(',')) {
      fail(
        `weight "${name}" is ${entry.dtype} [${entry.shape.join(', ')}] in the file but ${wantType} [${variable.shape.join(', ')}] in the model`,
        'Load weights saved from a model with the same sizes (dim, heads, context, layers)',
      );
    }
    const value = safetensorsToTensors({ [name]: entry })[name];
    variable.assign(value);
    value.dispose();
    assigned.push(name);
  }
  return assigned;
}
