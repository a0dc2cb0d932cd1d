/**
 * The protobuf wire format, just the part ONNX needs: varints, fixed32, and
 * length-delimited fields. Messages are kept as lists of byte chunks so a large weight's
 * raw data is written once into the final buffer instead of being copied at every level
 * of nesting (tensor -> graph -> model).
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** An encoded message under construction. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  get byteLength(): number {
    return this.size + this.scratch.length;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  private pushVarint(value: bigint): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.pushVarint(BigInt((field << 3) | wire));
  }

  /** int32, int64, enum and bool fields. */
  varint(field: number, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`protobuf varint field ${field} needs an integer, got ${value}`);
    }
    this.tag(field, WIRE_VARINT);
    this.pushVarint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.scratch.push(...bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.pushVarint(BigInt(value.byteLength));
    this.flushScratch();
    if (value.byteLength > 0) {
      this.chunks.push(value);
      this.size += value.byteLength;
    }
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** An embedded message; its chunks are shared, not copied. */
  message(field: number, value: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.pushVarint(BigInt(value.byteLength));
    this.flushScratch();
    value.flushScratch();
    for (const chunk of value.chunks) this.chunks.push(chunk);
    this.size += value.size;
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** One decoded field: varints as bigint, length-delimited fields as a view of the bytes. */
export type ProtoValue = { wire: 0; value: bigint } | { wire: 1 | 5; bytes: Uint8Array } | { wire: 2; bytes: Uint8Array };

/** Fields of one message by number, in order of appearance. */
export type ProtoFields = Map<number, ProtoValue[]>;

function readVarint(buf: Uint8Array, pos: { at: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.at >= buf.byteLength) throw new RangeError('protobuf: truncated varint');
    const byte = buf[pos.at++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 63n) throw new RangeError('protobuf: varint longer than 10 bytes');
  }
}

/** Splits one message into its fields (no schema needed). */
export function readFields(buf: Uint8Array): ProtoFields {
  const fields: ProtoFields = new Map();
  const pos = { at: 0 };
  while (pos.at < buf.byteLength) {
    const key = Number(readVarint(buf, pos));
    const field = key >>> 3;
    const wire = key & 7;
    let value: ProtoValue;
    if (wire === WIRE_VARINT) {
      value = { wire, value: readVarint(buf, pos) };
    } else if (wire === WIRE_LEN) {
      const length = Number(readVarint(buf, pos));
      if (pos.at + length > buf.byteLength) throw new RangeError(`protobuf: field ${field} runs past the end of its message`);
      value = { wire, bytes: buf.subarray(pos.at, pos.at + length) };
      pos.at += length;
    } else if (wire === WIRE_FIXED32 || wire === WIRE_FIXED64) {
      const length = wire === WIRE_FIXED32 ? 4 : 8;
      if (pos.at + length > buf.byteLength) throw new RangeError(`protobuf: field ${field} runs past the end of its message`);
      value = { wire, bytes: buf.subarray(pos.at, pos.at + length) };
      pos.at += length;
    } else {
      throw new RangeError(`protobuf: unsupported wire type ${wire} in field ${field}`);
    }
    const list = fields.get(field);
    if (list) list.push(value);
    else fields.set(field, [value]);
  }
  return fields;
}

/** Signed int64 from a varint field. */
export function toInt(value: ProtoValue): number {
  if (value.wire !== WIRE_VARINT) throw new RangeError('protobuf: expected a varint field');
  return Number(BigInt.asIntN(64, value.value));
}

/**
 * All integers of a repeated int field, whether written one per field (proto2, as ONNX
 * declares) or packed into one length-delimited field (as proto3 writers do).
 */
export function repeatedInts(fields: ProtoFields, field: number): number[] {
  const out: number[] = [];
  for (const v of fields.get(field) ?? []) {
    if (v.wire === WIRE_LEN) {
      const pos = { at: 0 };
      while (pos.at < v.bytes.byteLength) out.push(Number(BigInt.asIntN(64, readVarint(v.bytes, pos))));
    } else {
      out.push(toInt(v));
    }
  }
  return out;
}

export function toText(value: ProtoValue): string {
  if (value.wire !== WIRE_LEN) throw new RangeError('protobuf: expected a length-delimited field');
  return new TextDecoder().decode(value.bytes);
}

export function toFloat(value: ProtoValue): number {
  if (value.wire !== WIRE_FIXED32) throw new RangeError('protobuf: expected a fixed32 field');
  return new DataView(value.bytes.buffer, value.bytes.byteOffset, 4).getFloat32(0, true);
}

export function firstText(fields: ProtoFields, field: number): string | undefined {
  const v = fields.get(field)?.[0];
  return v ? toText(v) : undefined;
}

export function firstInt(fields: ProtoFields, field: number): number | undefined {
  const v = fields.get(field)?.[0];
  return v ? toInt(v) : undefined;
}
