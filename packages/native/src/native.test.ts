import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNative, type NativeKernels } from './index.js';

function native(): NativeKernels {
  const load = loadNative();
  if (!load.kernels) throw new Error(load.reason);
  return load.kernels;
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

// Row-major op(a)[m, k] @ op(b)[k, n] in double precision.
function naive(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe('@shiftmix/native', () => {
  it('names its BLAS', () => {
    const { blas, threads } = native().info();
    expect(['openblas', 'accelerate', 'mkl', 'blis', 'blas', 'builtin']).toContain(blas);
    expect(threads).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [3, 4, 5, false, false],
    [3, 4, 5, true, false],
    [3, 4, 5, false, true],
    [3, 4, 5, true, true],
    [33, 65, 129, false, true],
  ])('gemm %i x %i (k %i, transA %s, transB %s) matches a naive product, with alpha and beta', (m, n, k, ta, tb) => {
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    const c = random(m * n, 3);
    const before = c.slice();
    native().gemm(a, b, c, ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, 0, 0, 0, 0.5, 2);
    const expected = naive(a, b, m, n, k, ta, tb);
    for (let i = 0; i < m * n; i++) expect(c[i]).toBeCloseTo(0.5 * expected[i] + 2 * before[i], 4);
  });

  it('gemm walks a batch with strides and broadcasts a stride of 0', () => {
    const [m, n, k, batch] = [2, 3, 4, 3];
    const a = random(batch * m * k, 4);
    const b = random(k * n, 5);
    const c = new Float32Array(batch * m * n).fill(Number.NaN);
    native().gemm(a, b, c, 0, 0, m, n, k, batch, m * k, 0, m * n, 1, 0);
    for (let i = 0; i < batch; i++) {
      const expected = naive(a.subarray(i * m * k), b, m, n, k, false, false);
      for (let j = 0; j < m * n; j++) expect(c[i * m * n + j]).toBeCloseTo(expected[j], 4);
    }
  });

  it('refuses views too short for the call instead of writing past them', () => {
    const kernels = native();
    expect(() => kernels.gemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 0, 0, 2, 2, 3, 1, 0, 0, 0, 1, 0)).toThrow(
      /a holds 5 floats, the call reaches 6/,
    );
    const small = new Float32Array(8);
    expect(() => kernels.attentionForward(small, small, small, small, small, 1, 1, 4, 4, 0.5, 0, 0, 0, 16, 16, 4, 16, 16, 4, 1)).toThrow(
      /q, k and v holds 8 floats, the call reaches 16/,
    );
  });

  it('checks each view of a shift kernel against its extent: per-channel vectors against dim, the rest against B * T * D', () => {
    const { fused } = native();
    const [full, channels, shape, attrs] = [new Float32Array(2 * 3 * 4), new Float32Array(4), [2, 3, 4], { shifts: [1, 2] }];
    fused.ShiftmixHsmAb([full, channels, channels], [new Float32Array(24)], [shape, [4], [4]], attrs);
    expect(() => fused.ShiftmixHsmAb([full, new Float32Array(3), channels], [full], [shape, [4], [4]], attrs)).toThrow(
      /ShiftmixHsmAb: a holds 3 floats, the call reaches 4/,
    );
    expect(() => fused.ShiftmixHsmAb([full, channels, channels], [channels], [shape, [4], [4]], attrs)).toThrow(/y holds 4 floats, the call reaches 24/);
    expect(() => fused.ShiftmixGroupShift([full], [new Float32Array(23)], [shape], attrs)).toThrow(
      /ShiftmixGroupShift: y holds 23 floats, the call reaches 24/,
    );
    expect(() => fused.ShiftmixGroupShift([full], [full], [shape], { shifts: [1, -1] })).toThrow(/shifts must be >= 0/);
    expect(() => fused.ShiftmixGroupShift([full], [full], [shape], { shifts: [1, 1, 1, 1, 1] })).toThrow(/between 1 and dim shifts, got dim 4 and 5 shifts/);
    expect(() => fused.ShiftmixGroupShiftGrad([full], [full], [[6, 4]], attrs)).toThrow(/ShiftmixGroupShiftGrad: dy must be \[B, T, D\], got shape \[6, 4\]/);
  });

  it('calls every fused kernel one way, and names the kernel and what is wrong with a call', () => {
    const { fused } = native();
    const [x, bias] = [Float32Array.from([1, 2, 3, 4]), Float32Array.from([10, 20])];
    const y = new Float32Array(4);
    fused.ExampleScale([x, bias], [y], [[2, 2], [2]], { by: 3 });
    expect(Array.from(y)).toEqual([13, 26, 19, 32]);
    const call = fused.ExampleScale as unknown as (...args: unknown[]) => void;
    expect(() => call([x, bias], [y])).toThrow(/ExampleScale: expected 4 arguments \(inputs, outputs, inputShapes, attrs\), got 2/);
    expect(() => call([x, bias], [y], [[2, 2], [2]], {})).toThrow(/ExampleScale: attribute by must be a number/);
    expect(() => call([x, bias], [y], [[2, 2], [2]], null)).toThrow(/attrs must be an object/);
    expect(() => call([x, new Float64Array(2)], [y], [[2, 2], [2]], { by: 1 })).toThrow(/ExampleScale: bias must be a Float32Array/);
    expect(() => call([x, bias], [y], [[2, 2.5], [2]], { by: 1 })).toThrow(/the shape of x must be an array of whole numbers >= 0/);
    expect(() => call([x, bias], [y], 'shapes', { by: 1 })).toThrow(/inputShapes must be an array/);
    expect(() => fused.ShiftmixGroupShift([x], [y], [[1, 1, 4]], { shifts: [0.5] })).toThrow(/attribute shifts must be a list of whole numbers/);
    expect(() => fused.ShiftmixGroupShift([x], [y], [[1, 1, 4]], {})).toThrow(/attribute shifts must be a list of whole numbers/);
  });

  it('refuses arguments of the wrong kind with the argument named', () => {
    const kernels = native();
    const f = new Float32Array(4);
    expect(() => kernels.gemm(new Float64Array(4) as unknown as Float32Array, f, f, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0)).toThrow(/a must be a Float32Array/);
    expect(() => (kernels.gemm as unknown as (...args: unknown[]) => void)(f, f, f)).toThrow(/expected 14 arguments, got 3/);
    expect(() => kernels.attentionForward(f, f, f, f, f, 1, 1, 1, 4, 1, 0, 1.5, 0, 4, 4, 4, 4, 4, 4, 1)).toThrow(/dropoutRate/);
  });

  it('runs attention heads on several threads with the result of one', () => {
    const [b, h, t, hd] = [2, 3, 9, 4];
    const size = b * h * t * hd;
    const [q, k, v] = [1, 2, 3].map((s) => random(size, s));
    const strides = [h * t * hd, t * hd, hd];
    const outputs = [1, 3].map((threads) => {
      const out = new Float32Array(size);
      native().attentionForward(q, k, v, out, new Float32Array(b * h * t), b, h, t, hd, 0.5, 0, 0, 0, ...strides, ...strides, threads);
      return out;
    });
    expect(Array.from(outputs[1])).toEqual(Array.from(outputs[0]));
  });

  it("gives the BLAS back its threads after attention ran the heads on the pool's", () => {
    const { threads } = native().info();
    // Attention runs its blocks' products on one BLAS thread while the heads share the cores.
    native().setBlasThreads(2);
    try {
      const [b, h, t, hd] = [1, 2, 8, 4];
      const x = random(b * h * t * hd, 7);
      const strides = [h * t * hd, t * hd, hd];
      native().attentionForward(x, x, x, new Float32Array(x.length), new Float32Array(b * h * t), b, h, t, hd, 0.5, 0, 0, 0, ...strides, ...strides, 2);
      expect(native().info().threads).toBe(native().info().blas === 'openblas' ? 2 : threads);
    } finally {
      native().setBlasThreads(threads);
    }
  });
});

describe('@shiftmix/native without a BLAS', () => {
  // A child process, since the BLAS is chosen once per process (from the built package).
  it('multiplies with its builtin loop when SHIFTMIX_BLAS=none', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { loadNative } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const k = loadNative().kernels;
      const a = Float32Array.from({ length: 6 }, (_, i) => i + 1), b = Float32Array.from({ length: 6 }, (_, i) => 6 - i);
      const c = new Float32Array(4).fill(NaN);
      k.gemm(a, b, c, 0, 1, 2, 2, 3, 1, 0, 0, 0, 1, 0);
      console.log(JSON.stringify({ blas: k.info().blas, c: Array.from(c) }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, SHIFTMIX_BLAS: 'none' },
      encoding: 'utf8',
    });
    // [[1,2,3],[4,5,6]] @ [[6,5,4],[3,2,1]]^T
    expect(JSON.parse(out)).toEqual({ blas: 'builtin', c: [28, 10, 73, 28] });
  });
});

describe('the thread pool', () => {
  // A child process, so that a pool that never wakes up hangs it and not the tests.
  it('resizes right after it starts, and again and again, without waiting on a thread forever', async () => {
    const { execFileSync } = await import('node:child_process');
    const addon = fileURLToPath(new URL('../build/Release/shiftmix_native.node', import.meta.url));
    const script = `const k = require(${JSON.stringify(addon)});
      for (let i = 0; i < 20; i++) k.setPoolThreads(2 + (i % 3));
      console.log(k.info().poolThreads);`;
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 }).trim()).toBe('3');
  });
});

describe('the published NativeKernels type', () => {
  // Each glue file declares the addon functions it calls; users see those its entry reaches
  // (from the built package: dist/index.d.ts). The fused kernels are one property, `fused`.
  it('declares every function the addon exports', async () => {
    const { default: ts } = await import('typescript');
    const entry = fileURLToPath(new URL('../dist/index.d.ts', import.meta.url));
    const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true };
    const program = ts.createProgram([entry], options);
    const checker = program.getTypeChecker();
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    const symbol = checker.getAliasedSymbol(exported.find((s) => s.name === 'NativeKernels')!);
    const declared = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((p) => p.name);
    const bound = Object.getOwnPropertyNames(native());
    expect(declared.sort()).toEqual(bound.sort());
  });
});
