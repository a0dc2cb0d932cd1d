import { foldedDispatch, Program } from './runtime.js';

/**
 * WGSL programs of the fused language-model loss, logits [N, V] and int32 targets [N].
 * Targets are bound as f32 words and read back with bitcast (the runtime binds f32 arrays).
 *
 * `stats` [3N + 1] carries what the backward pass needs: the row maxima m [N], the row
 * log-sums log sum_v exp(x - m) [N], the row losses [N], and the divisor of the mean.
 * m and the log-sum stay apart, rather than one logsumexp, so that x - m is exact for
 * large logits and softmax keeps its precision (at |x| ~ 1e4, m + log-sum loses 1e-3).
 */

/**
 * Launch limits: one workgroup per row, folded into y past `maxGroupsX` (the per-dimension
 * dispatch limit); lowered by the tests to check the fold without 65,536 rows.
 */
export const crossEntropyTuning = { maxGroupsX: 65535 };

/** Threads per row: small vocabularies (characters) waste no lanes, large ones loop. */
export function rowWorkgroup(vocab: number): number {
  return vocab <= 256 ? 64 : 256;
}

// A NaN the compiler cannot fold: WGSL rejects constant expressions that evaluate to NaN.
const NAN_FN = `fn runtimeNan(seed: i32) -> f32 { return bitcast<f32>(0x7fc00000u | u32(seed & 1)); }
fn isNan(value: f32) -> bool { return (bitcast<u32>(value) & 0x7fffffffu) > 0x7f800000u; }`;

/** One workgroup of `threads` per row of the [rows, vocab] logits, the grid folded past the x limit. */
abstract class PerRowProgram extends Program {
  uniformNames = ['rows', 'vocab'];

  constructor(
    rows: number,
    protected readonly threads: number,
    name: string,
  ) {
    super();
    this.workgroupSize = [threads, 1, 1];
    this.dispatch = foldedDispatch(rows, crossEntropyTuning.maxGroupsX);
    this.shaderKey = `${name}_${threads}`;
  }

  abstract getUserCode(): string;
}

/** Pass 1, one workgroup per row: online max and sum of exp, then the row's loss. */
export class CrossEntropyRowsProgram extends PerRowProgram {
  outputNames = ['stats'];
  variableNames = ['logits', 'targets'];
  components = [1, 1, 1];

  constructor(rows: number, threads: number) {
    super(rows, threads, 'crossEntropyRows');
  }

  getUserCode(): string {
    const wg = this.threads;
    return `var<workgroup> redM: array<f32, ${wg}>;
var<workgroup> redS: array<f32, ${wg}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= uniforms.rows) { return; }
  let V = uniforms.vocab;
  let base = row * V;
  // (m, s) with s = sum exp(x - m) over this thread's columns; the finite floor keeps
  // exp(m1 - m2) defined when a thread has no columns (V < threads).
  var m = -3.4028234e38;
  var s = 0.0;
  for (var v = lid.x; v < V; v += ${wg}) {
    let x = logits[base + v];
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  redM[lid.x] = m;
  redS[lid.x] = s;
  workgroupBarrier();
  for (var stride = ${wg / 2}; stride > 0; stride = stride / 2) {
    if (lid.x < stride) {
      let m2 = redM[lid.x + stride];
      let top = max(m, m2);
      s = s * exp(m - top) + redS[lid.x + stride] * exp(m2 - top);
      m = top;
      redM[lid.x] = m;
      redS[lid.x] = s;
    }
    workgroupBarrier();
  }
  if (lid.x == 0) {
    let N = uniforms.rows;
    let y = bitcast<i32>(targets[row]);
    let logS = log(s);
    stats[row] = m;
    stats[N + row] = logS;
    // -log softmax(x)[y] = (m - x[y]) + log-sum; m - x[y] is exact when x[y] is near m.
    var rowLoss = 0.0;
    if (y >= 0 && y < V) { rowLoss = (m - logits[base + y]) + logS; }
    stats[2 * N + row] = rowLoss;
  }
}`;
  }
}

const MEAN_THREADS = 256;

/**
 * Pass 2, one workgroup: the mean of the row losses over valid rows, divided by
 * max(count, 1); a target >= V makes the divisor and the loss NaN.
 */
export class CrossEntropyMeanProgram extends Program {
  outputNames = ['loss', 'stats'];
  variableNames = ['targets'];
  components = [1, 1, 1];
  uniformNames = ['rows', 'vocab'];
  workgroupSize: [number, number, number] = [MEAN_THREADS, 1, 1];
  dispatch: [number, number, number] = [1, 1, 1];
  shaderKey = 'crossEntropyMean';

  getUserCode(): string {
    return `${NAN_FN}
var<workgroup> redLoss: array<f32, ${MEAN_THREADS}>;
var<workgroup> redCount: array<i32, ${MEAN_THREADS}>;
var<workgroup> redBad: array<i32, ${MEAN_THREADS}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let N = uniforms.rows;
  var total = 0.0;
  var count = 0;
  var bad = 0;
  for (var n = lid.x; n < N; n += ${MEAN_THREADS}) {
    let y = bitcast<i32>(targets[n]);
    if (y >= uniforms.vocab) {
      bad = 1;
    } else if (y >= 0) {
      count += 1;
      total += stats[2 * N + n];
    }
  }
  redLoss[lid.x] = total;
  redCount[lid.x] = count;
  redBad[lid.x] = bad;
  workgroupBarrier();
  for (var stride = ${MEAN_THREADS / 2}; stride > 0; stride = stride / 2) {
    if (lid.x < stride) {
      total += redLoss[lid.x + stride];
      count += redCount[lid.x + stride];
      bad = max(bad, redBad[lid.x + stride]);
      redLoss[lid.x] = total;
      redCount[lid.x] = count;
      redBad[lid.x] = bad;
    }
    workgroupBarrier();
  }
  if (lid.x == 0) {
    let divisor = select(max(f32(count), 1.0), runtimeNan(bad), bad > 0);
    stats[3 * N] = divisor;
    loss[0] = select(total / divisor, divisor, bad > 0);
  }
}`;
  }
}

/**
 * Backward, one workgroup per row, one pass: dx[n, v] = dy * (softmax(x)[n, v] - [v == y_n]) / divisor
 * for valid rows, 0 for ignored ones, NaN everywhere when the divisor is NaN.
 */
export class CrossEntropyGradProgram extends PerRowProgram {
  outputNames = ['dx'];
  variableNames = ['dy', 'logits', 'targets', 'stats'];
  components = [1, 1, 1, 1, 1];

  constructor(rows: number, threads: number) {
    super(rows, threads, 'crossEntropyGrad');
  }

  getUserCode(): string {
    const wg = this.threads;
    return `${NAN_FN}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let row = wid.y * nwg.x + wid.x;
  let N = uniforms.rows;
  if (row >= N) { return; }
  let V = uniforms.vocab;
  let base = row * V;
  let divisor = stats[3 * N];
  let y = bitcast<i32>(targets[row]);
  if (isNan(divisor) || y < 0) {
    let fill = select(0.0, divisor, isNan(divisor));
    for (var v = lid.x; v < V; v += ${wg}) { dx[base + v] = fill; }
    return;
  }
  let g = dy[0] / divisor;
  let m = stats[row];
  let logS = stats[N + row];
  for (var v = lid.x; v < V; v += ${wg}) {
    let p = exp((logits[base + v] - m) - logS);
    dx[base + v] = g * (p - select(0.0, 1.0, v == y));
  }
}`;
  }
}
