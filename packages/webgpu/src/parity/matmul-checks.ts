import { tf, type Tensor } from '@shiftmix/core';
import { MATMUL_TILES, SUBGROUP_TILES, matMulTuning, tilesFor } from '../matmul/kernel.js';
import { SUBGROUP_ROWS_STATE, subgroupRowsCheck, type MatMulTile } from '../matmul/program.js';
import { matMulStats } from '../matmul/register.js';
import { runProgram, Program } from '../runtime.js';
import { webGpuBackend, webGpuDevice } from '../backend.js';
import { normal, type Compared, type ParityCheck } from '@shiftmix/core/kernels';

const DEFAULTS = { ...matMulTuning };
const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/**
 * Runs fn with the register-tiled kernel (throwing when it took none of the products) or
 * with tfjs's own programs; the tuning is the default one afterwards.
 */
function withKernel<T>(fast: boolean, tuning: Partial<typeof matMulTuning>, fn: () => T): T {
  Object.assign(matMulTuning, tuning, { enabled: fast });
  const before = matMulStats.fast;
  try {
    const out = fn();
    if (fast && matMulStats.fast === before) throw new Error('the shiftmix matmul took none of the products');
    return out;
  } finally {
    Object.assign(matMulTuning, DEFAULTS);
  }
}

/** C = op(A) op(B) per batch entry, accumulated in float64 on the CPU. */
async function cpuProduct(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Promise<Tensor> {
  const [batch, rows, cols] = a.shape as number[];
  const [m, k, n] = [ta ? cols : rows, ta ? rows : cols, (b.shape as number[])[tb ? 1 : 2]];
  const [x, y] = [await a.data(), await b.data()];
  const c = new Float32Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const [ao, bo] = [p * m * k, p * k * n];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let l = 0; l < k; l++) sum += x[ao + (ta ? l * m + i : i * k + l)] * y[bo + (tb ? j * k + l : l * n + j)];
        c[(p * m + i) * n + j] = sum;
      }
    }
  }
  return tf.tensor3d(c, [batch, m, n]);
}

const operands = (batch: number, m: number, n: number, k: number, ta: boolean, tb: boolean): [tf.Tensor3D, tf.Tensor3D] => [
  normal(ta ? [batch, k, m] : [batch, m, k], 3) as tf.Tensor3D,
  normal(tb ? [batch, n, k] : [batch, k, n], 4) as tf.Tensor3D,
];

// Big enough for the default thresholds: M >= minRows, N >= minColumns and
// 4 * ceil(130 / 64) * ceil(1000 / 128) = 96 >= minBlocks blocks of the preferred tile.
const [BATCH, M, N, K] = [4, 130, 1000, 37];

const defaultThresholds: ParityCheck = {
  name: `matmul [${BATCH}, ${M}, ${K}] x [${BATCH}, ${K}, ${N}], default thresholds, every transpose, vs a float64 CPU product`,
  kernels: [],
  async run() {
    const out: Compared[] = [];
    for (const [ta, tb] of TRANSPOSES) {
      const [a, b] = operands(BATCH, M, N, K, ta, tb);
      const got = withKernel(true, {}, () => tf.matMul(a, b, ta, tb));
      out.push({ what: `C, transposeA ${ta} transposeB ${tb}`, got, want: await cpuProduct(a, b, ta, tb), tol: 1e-5 });
    }
    return out;
  },
};

// Small ragged products, taken only with the thresholds lowered (as the Node tests do).
const SMALL = { minRows: 1, minColumns: 1, minBlocks: 0 };

/** Forward and both gradients of every transpose with one tile, vs tfjs's own programs. */
const tileCheck = (tile: MatMulTile | undefined, transposes: readonly (readonly [boolean, boolean])[]): ParityCheck => ({
  name: `matmul [2, 70, 37] x [2, 37, 45], ${tile ? `tile ${tile.bm}x${tile.bn}x${tile.bk} (${tile.tm}x${tile.tn}${tile.subgroups ? ', subgroup shuffles' : ''})` : 'chosen tile'}, vs tfjs's program`,
  kernels: [],
  run() {
    const out: Compared[] = [];
    for (const [ta, tb] of transposes) {
      const [a, b] = operands(2, 70, 45, 37, ta, tb);
      const weights = normal([2, 70, 45], 5);
      const loss = (x: Tensor, y: Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb), weights));
      const run = (fast: boolean) => withKernel(fast, { ...SMALL, forceTile: tile }, () => [tf.matMul(a, b, ta, tb), ...tf.grads(loss)([a, b])]);
      const [got, want] = [run(true), run(false)];
      const label = `transposeA ${ta} transposeB ${tb}`;
      ['C', 'dA', 'dB'].forEach((what, i) => out.push({ what: `${what}, ${label}`, got: got[i], want: want[i], tol: 1e-5 }));
    }
    return out;
  },
});

const fusedEpilogue: ParityCheck = {
  name: `fused matmul + bias + relu [41, 23] x [23, 34], vs tfjs's program`,
  kernels: [],
  run() {
    const [a, b, bias] = [normal([41, 23], 10), normal([23, 34], 11), normal([34], 12)];
    const f = (x: Tensor, y: Tensor, c: Tensor) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: c, activation: 'relu' });
    const run = (fast: boolean) =>
      withKernel(fast, SMALL, () => [f(a, b, bias), ...tf.grads((x: Tensor, y: Tensor, c: Tensor) => tf.sum(tf.square(f(x, y, c))))([a, b, bias])]);
    const [got, want] = [run(true), run(false)];
    return ['C', 'dA', 'dB', 'dbias'].map((what, i) => ({ what, got: got[i], want: want[i], tol: i === 0 ? 1e-5 : 1e-4 }));
  },
};

// Rows of 4 threads: on 4-lane subgroups (SwiftShader) the shuffle path runs, not the fallback.
const NARROW: MatMulTile = { bm: 32, bn: 16, bk: 16, tm: 4, tn: 4, subgroups: true };

/** The kernel's subgroup layout check alone: (1 when rows of `rowThreads` may shuffle, subgroup size). */
class SubgroupRowsProbe extends Program {
  outputNames = ['result'];
  variableNames: string[] = [];
  components = [1];
  uniformNames: string[] = [];
  dispatch: [number, number, number] = [1, 1, 1];
  subgroups = true;

  constructor(
    private readonly rowThreads: number,
    public workgroupSize: [number, number, number],
  ) {
    super();
    this.shaderKey = `parityProbe_${rowThreads}_${workgroupSize.join('x')}`;
  }

  getUserCode(): string {
    return `${SUBGROUP_ROWS_STATE}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let t = lid.y * ${this.workgroupSize[0]} + lid.x;
${subgroupRowsCheck(this.rowThreads, 't')}
  if (t == 0) { result[0] = select(0.0, 1.0, shuffle); result[1] = f32(sgSize); }
}`;
  }
}

/**
 * The narrow subgroup tile on every transpose, after checking that this adapter's
 * subgroups let its rows shuffle (else the check would only cover the fallback path).
 */
const subgroupShuffleCheck: ParityCheck = {
  name: 'matmul subgroup tile with rows of 4 threads: the shuffle path is taken',
  kernels: [],
  run() {
    const backend = webGpuBackend()!;
    const result = backend.makeTensorInfo([2], 'float32');
    runProgram(backend, new SubgroupRowsProbe(NARROW.bn / NARROW.tn, [NARROW.bn / NARROW.tn, NARROW.bm / NARROW.tm, 1]), [], [result]);
    const probe = tf.engine().makeTensorFromTensorInfo(result);
    const taken = tf.tidy(() => probe.slice([0], [1]));
    const size = tf.tidy(() => probe.slice([1], [1]));
    probe.dispose();
    // Any subgroup size that is a multiple of 4 holds whole rows of this tile; 0 here means
    // this adapter's subgroups are not laid out in thread order, and only the fallback ran.
    return [
      {
        what: 'shuffle path taken (1) where the subgroup size is a multiple of 4',
        got: taken,
        want: tf.tidy(() => tf.cast(tf.equal(tf.mod(size, 4), 0), 'float32')),
        tol: 0,
      },
    ];
  },
};

/**
 * Every transpose forward with the default thresholds (SwiftShader: the 64 x 64 tile);
 * then the tile chosen for small products and each tile this device runs, every transpose
 * forward and both gradients; where the device has subgroups, the subgroup tiles too (the
 * narrow one on every transpose).
 */
export function matmulChecks(): ParityCheck[] {
  const device = webGpuDevice();
  const tiles = device ? tilesFor(device.limits) : MATMUL_TILES;
  const subgroupTiles = device?.features.has('subgroups') ? tilesFor(device.limits, [NARROW, ...SUBGROUP_TILES.slice(0, 1)], device.features) : [];
  const subgroupChecks = subgroupTiles.length
    ? [subgroupShuffleCheck, ...subgroupTiles.map((t) => tileCheck(t, t === NARROW ? TRANSPOSES : [[true, true]]))]
    : [];
  return [defaultThresholds, tileCheck(undefined, TRANSPOSES), ...tiles.map((t) => tileCheck(t, TRANSPOSES)), ...subgroupChecks, fusedEpilogue];
}
