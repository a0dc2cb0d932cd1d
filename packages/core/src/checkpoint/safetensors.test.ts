import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { isShiftmixError } from '../errors.js';
import { tf } from '../tf.js';
import { assignSafetensors, decodeSafetensors, encodeSafetensors, variablesToSafetensors } from './safetensors.js';

/** Builds a file by hand from the format description, independently of the encoder. */
function handMade(header: object, data: number[], pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  out[0] = json.length & 0xff;
  out[1] = (json.length >> 8) & 0xff;
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectCorrupt(bytes: Uint8Array): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    caught = error;
  }
  expect(isShiftmixError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe('E_SAFETENSORS');
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('safetensors bytes', () => {
  it('reads a hand-built file: F32 little-endian data, offsets and metadata', () => {
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0; I32 7 = 07 00 00 00.
    const bytes = handMade(
      {
        __metadata__: { format: 'pt' },
        w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        n: { dtype: 'I32', shape: [], data_offsets: [8, 12] },
      },
      [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 0, 0, 0],
      3,
    );
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(Array.from(file.tensors.w.data as Float32Array)).toEqual([1, -2]);
    expect(file.tensors.n).toEqual({ dtype: 'I32', shape: [], data: new Int32Array([7]) });
  });

  it('writes the layout the format prescribes', () => {
    const bytes = encodeSafetensors(
      { b: { dtype: 'F32', shape: [1], data: new Float32Array([1]) }, a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } },
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({
      __metadata__: { k: 'v' },
      a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
      b: { dtype: 'F32', shape: [1], data_offsets: [3, 7] },
    });
    expect(Array.from(bytes.subarray(8 + n))).toEqual([1, 2, 3, 0, 0, 0x80, 0x3f]);
  });

  it('round-trips every dtype, empty tensors and odd names', () => {
    const tensors = {
      f64: { dtype: 'F64' as const, shape: [2], data: new Float64Array([Math.PI, -1e300]) },
      bf16: { dtype: 'BF16' as const, shape: [1, 2], data: new Uint16Array([0x3f80, 0xc000]) },
      i64: { dtype: 'I64' as const, shape: [1], data: new BigInt64Array([-(2n ** 40n)]) },
      empty: { dtype: 'F32' as const, shape: [0, 3], data: new Float32Array(0) },
      ['__proto__']: { dtype: 'BOOL' as const, shape: [2], data: new Uint8Array([1, 0]) },
    };
    const file = decodeSafetensors(encodeSafetensors(tensors));
    expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, entry] of Object.entries(tensors)) expect(file.tensors[name]).toEqual(entry);
  });

  it('rejects every truncation of a valid file', () => {
    const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) } }, { a: 'b' });
    for (let length = 0; length < bytes.length; length++) expectCorrupt(bytes.slice(0, length));
  });

  it('rejects corrupt headers and inconsistent offsets', () => {
    const f32 = (offsets: number[], shape = [1]) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const huge = new Uint8Array(16);
    huge[7] = 0x7f;
    expectCorrupt(huge);
    expectCorrupt(handMade({}, []).fill(0x7b, 8));
    const notJson = handMade({ w: f32([0, 4]) }, [0, 0, 0, 0]);
    notJson[9] = 0xff;
    expectCorrupt(notJson);
    expectCorrupt(handMade({ w: f32([0, 4]), v: f32([2, 6]) }, [0, 0, 0, 0, 0, 0])); // overlap
    expectCorrupt(handMade({ w: f32([4, 8]) }, [0, 0, 0, 0, 0, 0, 0, 0])); // hole
    expectCorrupt(handMade({ w: f32([0, 8]) }, [0, 0, 0, 0, 0, 0, 0, 0])); // size != shape
    expectCorrupt(handMade({ w: f32([0, 4]) }, [0, 0, 0, 0, 9])); // trailing bytes
    expectCorrupt(handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]));
    expectCorrupt(handMade({ w: f32([0, 4], [-1]) }, [0, 0, 0, 0]));
    expectCorrupt(handMade({ __metadata__: { n: 1 } }, []));
  });

  it('refuses to encode data that does not match dtype and shape', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array(3) } })).toThrow(/needs a Float32Array of 2/);
    expect(() => encodeSafetensors({ w: { dtype: 'I32', shape: [1], data: new Float32Array(1) } })).toThrow(/Int32Array/);
  });
});

describe('safetensors and tfjs variables', () => {
  it('moves weights between variables and checks names and shapes', () => {
    const source = { w: tf.variable(tf.randomNormal([2, 3], 0, 1, 'float32', 1)), step: tf.variable(tf.scalar(5, 'int32')) };
    const target = { w: tf.variable(tf.zeros([2, 3])), step: tf.variable(tf.scalar(0, 'int32')) };
    const bytes = variablesToSafetensors(source, { kind: 'test' });
    expect(assignSafetensors(target, bytes).sort()).toEqual(['step', 'w']);
    expect(target.w.arraySync()).toEqual(source.w.arraySync());
    expect(target.step.arraySync()).toBe(5);

    const wrongShape = { w: tf.variable(tf.zeros([3, 2])), step: tf.variable(tf.scalar(0, 'int32')) };
    expect(() => assignSafetensors(wrongShape, bytes)).toThrow(/weight "w" is F32 \[2, 3\] in the file but F32 \[3, 2\]/);
    const extra = { ...target, other: tf.variable(tf.zeros([1])) };
    expect(() => assignSafetensors(extra, bytes)).toThrow(/missing other/);
    expect(assignSafetensors(extra, bytes, { strict: false }).sort()).toEqual(['step', 'w']);
    tf.dispose([...Object.values(source), ...Object.values(target), ...Object.values(wrongShape), extra.other]);
  });
});

describe('safetensors from a Node Buffer', () => {
  it('decodes each tensor from its own bytes when given a Buffer (whose slice() is a view)', () => {
    const bytes = encodeSafetensors({
      first: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
      second: { dtype: 'F32', shape: [3], data: new Float32Array([3, 4, 5]) },
    });
    const decoded = decodeSafetensors(Buffer.from(bytes));
    expect(Array.from(decoded.tensors.first.data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(decoded.tensors.second.data as Float32Array)).toEqual([3, 4, 5]);
  });
});
