import { ShiftmixError, tf } from '@shiftmix/core';
import { describe, expect, it } from 'vitest';
import { checkModel, findProblems } from './check.js';
import { GraphBuilder } from './graph-builder.js';
import { decodeModel, encodeModel } from './onnx-proto.js';
import { ProtoWriter, readFields, repeatedInts, toInt } from './protobuf.js';
import { maxAbsDiff, runOnnx } from './test-helpers.js';

describe('protobuf wire format', () => {
  it('round-trips varints including negative int64 and packed repeated ints', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 40, -1, -7, Number.MIN_SAFE_INTEGER];
    const w = new ProtoWriter();
    for (const v of values) w.varint(3, v);
    const fields = readFields(w.finish());
    expect(fields.get(3)!.map(toInt)).toEqual(values);
    expect(repeatedInts(fields, 3)).toEqual(values);
    // -1 takes the full ten bytes of a 64-bit two's complement varint.
    expect(new ProtoWriter().varint(1, -1).finish().byteLength).toBe(11);
    // A packed field: tag (field 4, wire 2), length 3, then 1, 2, 150 (two bytes).
    const packed = Uint8Array.from([0x22, 4, 1, 2, 0x96, 0x01]);
    expect(repeatedInts(readFields(packed), 4)).toEqual([1, 2, 150]);
  });

  it('nests messages without losing bytes', () => {
    const inner = new ProtoWriter().string(1, 'héllo').bytes(2, new Uint8Array([9, 8, 7]));
    const outer = new ProtoWriter().message(5, inner).varint(6, 42).finish();
    const fields = readFields(outer);
    const innerField = fields.get(5)![0];
    expect(innerField.wire).toBe(2);
    const decoded = readFields((innerField as { bytes: Uint8Array }).bytes);
    expect(new TextDecoder().decode((decoded.get(1)![0] as { bytes: Uint8Array }).bytes)).toBe('héllo');
    expect(Array.from((decoded.get(2)![0] as { bytes: Uint8Array }).bytes)).toEqual([9, 8, 7]);
    expect(toInt(fields.get(6)![0])).toBe(42);
  });
});

function smallGraph(): { bytes: Uint8Array; w: Float32Array } {
  const g = new GraphBuilder(17, 'small');
  const x = g.input('x', 'float32', ['batch', 3]);
  const wTensor = tf.tensor2d([1, -2, 0.5, 3, 0.25, -1], [3, 2]);
  const w = g.weight('w', wTensor);
  const [y] = g.add('MatMul', [x, w]);
  const [z] = g.add('Add', [y, g.float([0.5, -0.5], [2])]);
  const [s] = g.add('ReduceSum', [z, g.int64([1])], { keepdims: 0 });
  const [e] = g.add('LeakyRelu', [s], { alpha: { kind: 'float', value: 0.1 } });
  g.output('y', e, 'float32', ['batch']);
  const bytes = g.encode({ note: 'test' });
  const wData = wTensor.dataSync() as Float32Array;
  wTensor.dispose();
  return { bytes, w: wData };
}

describe('GraphBuilder', () => {
  it('writes a model that decodes, passes the structural checks and round-trips', () => {
    const { bytes } = smallGraph();
    const model = checkModel(bytes);
    expect(model.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(model.irVersion).toBe(8);
    expect(model.metadata).toEqual({ note: 'test' });
    expect(model.graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    const w = model.graph.initializers.find((t) => t.name === 'w')!;
    expect(w.dims).toEqual([3, 2]);
    const leaky = model.graph.nodes.find((n) => n.opType === 'LeakyRelu')!;
    expect(leaky.attributes.alpha).toEqual({ type: 'float', value: Math.fround(0.1) });
    expect(Array.from(encodeModel(decodeModel(bytes)))).toEqual(Array.from(bytes));
  });

  it('runs in onnxruntime-web and matches a plain loop', async () => {
    const { bytes, w } = smallGraph();
    const x = Float32Array.from([1, 2, 3, -1, 0.5, 2]);
    const out = await runOnnx(bytes, { x: { dtype: 'float32', data: x, dims: [2, 3] } });
    const expected = [0, 1].map((b) => {
      let sum = 0;
      for (let j = 0; j < 2; j++) {
        let acc = j === 0 ? 0.5 : -0.5;
        for (let i = 0; i < 3; i++) acc += x[b * 3 + i] * w[i * 2 + j];
        sum += acc;
      }
      return sum >= 0 ? sum : 0.1 * sum;
    });
    expect(out.y.dims).toEqual([2]);
    expect(maxAbsDiff(out.y.data, expected)).toBeLessThan(1e-5);
  });

  it('shares repeated constants and keeps generated names unique', () => {
    const g = new GraphBuilder(17, 'names');
    expect(g.int64([1, 2])).toBe(g.int64([1, 2]));
    expect(g.int64([1, 2])).not.toBe(g.int64([1, 2], [2, 1]));
    const a = g.uniqueName('v');
    const b = g.uniqueName('v');
    const c = g.scoped('blocks.0.', () => g.uniqueName('v'));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(c).toBe('blocks.0.v');
  });

  it('rejects a fractional plain-number attribute with a clear error', () => {
    const g = new GraphBuilder(17, 'attrs');
    const x = g.input('x', 'float32', [2]);
    expect(() => g.add('LeakyRelu', [x], { alpha: 0.1 })).toThrow(ShiftmixError);
    expect(() => g.add('LeakyRelu', [x], { alpha: 0.1 })).toThrow(/kind: 'float'/);
  });

  it('finds structural problems: undefined inputs, duplicate values, wrong initializer sizes', () => {
    const g = new GraphBuilder(17, 'broken');
    const x = g.input('x', 'float32', [2]);
    g.add('Relu', ['nowhere']);
    g.addNamed('Relu', [x], ['dup']);
    const model = g.toModel();
    model.graph.nodes.push({ name: 'again', opType: 'Relu', inputs: [x], outputs: ['dup'], attributes: {} });
    model.graph.initializers.push({ name: 'short', dtype: 'float32', dims: [3], raw: new Uint8Array(8) });
    model.graph.outputs.push({ name: 'missing', dtype: 'float32', shape: [2] });
    model.opsets = [{ domain: '', version: 13 }];
    const problems = findProblems(model).join('\n');
    expect(problems).toMatch(/reads "nowhere"/);
    expect(problems).toMatch(/"dup" is defined twice/);
    expect(problems).toMatch(/"short" .* holds 8 bytes, expected 12/);
    expect(problems).toMatch(/"missing" is not produced/);
    expect(problems).toMatch(/opset 13/);
    expect(() => checkModel(encodeModel(model))).toThrow(ShiftmixError);
  });
});
