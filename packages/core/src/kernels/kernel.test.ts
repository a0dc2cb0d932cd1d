import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { isShiftmixError } from '../errors.js';
import { tf } from '../tf.js';
import { defineKernel, findKernel, listKernels, onKernelDefined, type AnyKernel } from './index.js';

// The kernel objects are the one list of fused kernels: backends implement exactly them.
const core = () => listKernels().filter((k) => k.name.startsWith('Shiftmix'));
const backwards = () => new Set(core().flatMap((k) => (k.name.endsWith('Grad') ? [k.name] : [])));

describe('fused kernels', () => {
  it('are each defined once and found by name', () => {
    const names = listKernels().map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const k of listKernels()) expect(findKernel(k.name)).toBe(k);
    expect(findKernel('NoSuchKernel')).toBeUndefined();
    let error: unknown;
    try {
      defineKernel({ name: 'ShiftmixHsmAb', summary: '', inputs: {}, attrs: {}, outputs: {} });
    } catch (caught) {
      error = caught;
    }
    expect(isShiftmixError(error) && error.code).toBe('E_KERNEL');
  });

  it('give every forward kernel a reference (but AdamW, whose reference is AdamW.apply) and parity checks', () => {
    const forward = core().filter((k) => !backwards().has(k.name));
    expect(forward.length).toBeGreaterThanOrEqual(10);
    for (const k of forward) expect(k.checks().length, k.name).toBeGreaterThan(0);
    expect(forward.filter((k) => !('reference' in k.spec && k.spec.reference)).map((k) => k.name)).toEqual(['ShiftmixAdamW']);
  });

  it('declare the shapes of their outputs, which their references give', async () => {
    await selectBackend('cpu');
    const x = tf.randomNormal([2, 5, 8]);
    const vector = tf.randomNormal([8]);
    const cases: [string, Record<string, tf.Tensor>, Record<string, unknown>][] = [
      ['ShiftmixHsmAb', { u: x, a: vector, b: vector }, { shifts: [1, 3] }],
      ['ShiftmixFusionBlend', { g: x, v: x }, { shifts: [2] }],
      ['ShiftmixGroupShift', { x }, { shifts: [1] }],
      ['ShiftmixLayerNorm', { x, gamma: vector, beta: vector }, { eps: 1e-5 }],
      ['ShiftmixAddLayerNorm', { x, h: x, gamma: vector, beta: vector }, { eps: 1e-5 }],
      ['ShiftmixBiasGelu', { x, b: vector }, {}],
      ['ShiftmixDropout', { x }, { rate: 0.5, seed: 1 }],
      ['ShiftmixCrossEntropy', { logits: tf.randomNormal([6, 8]), targets: tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32') }, {}],
      [
        'ShiftmixAttention',
        { q: tf.randomNormal([1, 2, 5, 4]), k: tf.randomNormal([1, 2, 5, 4]), v: tf.randomNormal([1, 2, 5, 4]) },
        { window: 0, dropoutRate: 0, seed: 0, scale: 0.5 },
      ],
      ['ShiftmixAttentionPacked', { qkv: tf.randomNormal([1, 5, 24]) }, { window: 0, dropoutRate: 0, seed: 0, scale: 0.5, heads: 2 }],
    ];
    for (const [name, inputs, attrs] of cases) {
      const kernel = findKernel(name) as unknown as { reference(i: typeof inputs, a: typeof attrs): tf.Tensor | tf.Tensor[] } & AnyKernel;
      const shapes = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.shape]));
      const out = kernel.reference(inputs, attrs);
      expect(
        (Array.isArray(out) ? out : [out]).map((t) => t.shape),
        name,
      ).toEqual(kernel.outputShapes(shapes, attrs));
    }
  });

  it('run the composite where no backend implements them, and say so where there is none', async () => {
    await selectBackend('cpu');
    const scale = defineKernel<{ by: number }>({
      name: 'ExampleScaleForTest',
      summary: 'x * by',
      inputs: { x: 'float32, any shape' },
      attrs: { by: 'the factor' },
      outputs: { y: 'as x' },
      reference: ({ x }, { by }) => tf.mul(x, by),
    });
    const bare = defineKernel<{ by: number }>({ name: 'ExampleBareForTest', summary: '', inputs: { x: '' }, attrs: { by: '' }, outputs: { y: '' } });
    const x = tf.tensor1d([1, 2, 3]);
    expect(scale.implementedOn()).toBe(false);
    expect(Array.from(scale.run({ x }, { by: 2 }).dataSync())).toEqual([2, 4, 6]);
    // Implemented on cpu, the backend's function runs instead (here, one that differs on purpose).
    scale.implement('cpu', ({ inputs, backend, attrs }) => {
      const cpu = backend as unknown as { readSync(id: object): Float32Array; makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo };
      const input = (inputs as Record<string, tf.TensorInfo>).x;
      return cpu.makeTensorInfo(
        input.shape,
        'float32',
        cpu.readSync(input.dataId).map((v) => v * 10 * Number(attrs?.by)),
      );
    });
    expect(Array.from(scale.run({ x }, { by: 2 }).dataSync())).toEqual([20, 40, 60]);
    expect(scale.implementedOn('cpu')).toBe(true);
    expect(scale.backends()).toEqual(['cpu']);
    expect(() => bare.run({ x }, { by: 1 })).toThrow(/does not implement ExampleBareForTest, which has no composite/);
    x.dispose();
  });

  it('tell a listener of every kernel, those defined before it and after, backward kernels included', () => {
    const seen: string[] = [];
    onKernelDefined((k) => seen.push(k.name));
    expect(seen).toEqual(listKernels().map((k) => k.name));
    defineKernel({
      name: 'ExampleListenedForTest',
      summary: '',
      inputs: { x: '' },
      attrs: {},
      outputs: { y: '' },
      backward: { name: 'ExampleListenedForTestGrad', summary: '', inputs: { dy: '' }, outputs: { dx: '' } },
    });
    expect(seen.slice(-2).sort()).toEqual(['ExampleListenedForTest', 'ExampleListenedForTestGrad']);
  });
});

afterAll(async () => {
  await selectBackend('cpu');
});
