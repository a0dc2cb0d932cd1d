import { Program } from '../runtime.js';

/**
 * Tile shape of the register-tiled matmul. A workgroup computes a bm x bn block of C,
 * stepping through K by bk; each thread owns tm x tn outputs (tm, tn in {4, 8}) held in
 * vec4 registers, so one k step costs (tm + tn) / 4 vec4 reads of workgroup memory for
 * tm * tn multiply-adds.
 */
export interface MatMulTile {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
  /**
   * The threads of a row of the tile (bn / tn of them, which need the same A values) read
   * A from workgroup memory once between them, each a different k, and pass the values on
   * with subgroupShuffle. Needs the 'subgroups' feature; a workgroup whose subgroups do not
   * line up with its rows (checked in the shader) reads workgroup memory as usual.
   */
  subgroups?: boolean;
}

export interface MatMulShape {
  batch: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  /** A (resp. B) is shared by every batch entry (its batch size is 1). */
  broadcastA: boolean;
  broadcastB: boolean;
  /** Batch dimensions of C (the broadcast of A's and B's). */
  outer: number[];
}

/** Activations of tfjs's _FusedMatMul that the epilogue applies (prelu is left to tfjs). */
export type MatMulActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu' | 'leakyrelu';

/** What is applied to each output before it is stored (_FusedMatMul). */
export interface MatMulEpilogue {
  /** 'vector': bias[n] per column; 'scalar': one bias for all. */
  bias: 'none' | 'vector' | 'scalar';
  activation: MatMulActivation;
  leakyreluAlpha: number;
}

export const PLAIN_EPILOGUE: MatMulEpilogue = { bias: 'none', activation: 'linear', leakyreluAlpha: 0 };

function activationCode(epilogue: MatMulEpilogue): string {
  switch (epilogue.activation) {
    case 'relu':
      return 'max(x, vec4<f32>(0.0))';
    case 'relu6':
      return 'clamp(x, vec4<f32>(0.0), vec4<f32>(6.0))';
    case 'sigmoid':
      return '1.0 / (1.0 + exp(-x))';
    case 'elu':
      return 'select(exp(x) - 1.0, x, x >= vec4<f32>(0.0))';
    case 'leakyrelu':
      return `select(x * ${f32(epilogue.leakyreluAlpha)}, x, x >= vec4<f32>(0.0))`;
    default:
      return 'x';
  }
}

/** A float literal for WGSL (always with a decimal point or exponent). */
function f32(value: number): string {
  const text = String(Math.fround(value));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Workgroup state of subgroupRowsCheck. */
export const SUBGROUP_ROWS_STATE = 'var<workgroup> sgMisaligned: atomic<u32>;';

/**
 * WGSL statements (in main, with every thread present) defining `shuffle`: true when this
 * workgroup's subgroups are whole, aligned runs of its threads in local index order
 * (`index`, an i32) and hold whole rows of `rowThreads` threads, so a row's threads are
 * consecutive lanes of one subgroup. WGSL does not promise that layout, hence the check;
 * it is the same for every thread of the workgroup.
 */
export function subgroupRowsCheck(rowThreads: number, index: string): string {
  return `  let first = subgroupBroadcast(${index}, 0u);
  let aligned = sgSize % ${rowThreads}u == 0u && u32(${index}) % sgSize == sgLane && first == ${index} - i32(sgLane);
  if (!subgroupAll(aligned)) { atomicOr(&sgMisaligned, 1u); }
  workgroupBarrier();
  let shuffle = atomicLoad(&sgMisaligned) == 0u;`;
}

export function tileThreads(tile: MatMulTile): number {
  return (tile.bm / tile.tm) * (tile.bn / tile.tn);
}

/**
 * Workgroup memory of a tile: A and B blocks stored k-major, one vec4 of padding per k
 * row, and for subgroup tiles the alignment flag (padded to 16 bytes).
 */
export function tileStorageBytes(tile: MatMulTile): number {
  return tile.bk * (tile.bm / 4 + 1 + tile.bn / 4 + 1) * 16 + (tile.subgroups ? 16 : 0);
}

/** Whether the generator can build this tile (every thread loads whole vec4 groups). */
export function tileIsValid(tile: MatMulTile): boolean {
  const { bm, bn, bk, tm, tn } = tile;
  const threads = tileThreads(tile);
  return (
    [4, 8].includes(tm) &&
    [4, 8].includes(tn) &&
    bm % tm === 0 &&
    bn % tn === 0 &&
    bm % 4 === 0 &&
    bn % 4 === 0 &&
    ((bm / 4) * bk) % threads === 0 &&
    ((bn / 4) * bk) % threads === 0 &&
    // The subgroup path hands A along a row of threads in rounds of bn / tn values of k.
    (!tile.subgroups || bk % (bn / tn) === 0)
  );
}

/**
 * C[z] = op(A[z]) op(B[z]) for float32 row-major A, B, C (op: optional transpose), any M,
 * N, K: out-of-range loads read zero and out-of-range stores are skipped. One workgroup
 * per bm x bn block of C and batch entry; global loads of the next k block go to
 * registers while the current one is multiplied from workgroup memory.
 */
export class MatMulProgram extends Program {
  outputNames = ['C'];
  variableNames = ['A', 'B'];
  uniformNames = ['M', 'N', 'K', 'strideA', 'strideB'];
  subgroups: boolean;
  private readonly vecOut: boolean;

  constructor(
    private readonly shape: MatMulShape,
    private readonly tile: MatMulTile,
    private readonly epilogue: MatMulEpilogue = PLAIN_EPILOGUE,
    /** Adds the product to what C holds (a product split along K, after its first part). */
    private readonly accumulate = false,
  ) {
    super();
    if (epilogue.bias !== 'none') this.variableNames = ['A', 'B', 'bias'];
    const { bm, bn, bk, tm, tn } = tile;
    this.vecOut = shape.n % 4 === 0;
    this.components = [this.vecOut ? 4 : 1, 1, 1, 1];
    this.workgroupSize = [bn / tn, bm / tm, 1];
    this.dispatch = [Math.ceil(shape.n / bn), Math.ceil(shape.m / bm), shape.batch];
    const flags = `${shape.transposeA ? 't' : 'n'}${shape.transposeB ? 't' : 'n'}${this.vecOut ? 'v' : 's'}`;
    const post = `${epilogue.bias}_${epilogue.activation}${epilogue.activation === 'leakyrelu' ? f32(epilogue.leakyreluAlpha) : ''}`;
    this.subgroups = tile.subgroups === true;
    this.shaderKey = `shiftmixMatMul_${bm}x${bn}x${bk}_${tm}x${tn}${this.subgroups ? 'sg' : ''}_${flags}_${post}${accumulate ? '_acc' : ''}`;
  }

  /** Uniform values in the order of uniformNames. */
  uniforms(): number[] {
    const { m, n, k, broadcastA, broadcastB } = this.shape;
    return [m, n, k, broadcastA ? 0 : m * k, broadcastB ? 0 : k * n];
  }

  getUserCode(): string {
    const { bm, bn, bk, tm, tn } = this.tile;
    const { transposeA, transposeB } = this.shape;
    const threads = tileThreads(this.tile);
    const [ntx, rm, rn] = [bn / tn, tm / 4, tn / 4];
    const [as, bs] = [bm / 4 + 1, bn / 4 + 1];
    const [aq, bq] = [bm / 4 / rm, bn / 4 / rn];
    const [la, lb] = [((bm / 4) * bk) / threads, ((bn / 4) * bk) / threads];
    // A vec4 group is 4 consecutive rows of A's block (4 columns of B's) at one k. When the
    // group runs along the contiguous axis, consecutive threads take consecutive groups;
    // otherwise they take consecutive k, so the 4 strided loads are each coalesced.
    const groupA = transposeA
      ? { q: `e % ${bm / 4}`, k: `e / ${bm / 4}`, at: (row: string, k: string) => `${k} * uniforms.M + ${row}` }
      : { q: `e / ${bk}`, k: `e % ${bk}`, at: (row: string, k: string) => `${row} * uniforms.K + ${k}` };
    const groupB = transposeB
      ? { q: `e / ${bk}`, k: `e % ${bk}`, at: (col: string, k: string) => `${col} * uniforms.K + ${k}` }
      : { q: `e % ${bn / 4}`, k: `e / ${bn / 4}`, at: (col: string, k: string) => `${k} * uniforms.N + ${col}` };

    const loads = (name: 'A' | 'B', count: number, group: typeof groupA, origin: string, limit: string) => {
      const lines: string[] = [];
      for (let r = 0; r < count; r++) {
        lines.push(`  { let e = t + ${r * threads}; let q = ${group.q}; let kk = k0 + ${group.k}; let row = ${origin} + q * 4;`);
        lines.push(`    reg${name}[${r}] = vec4<f32>(${[0, 1, 2, 3].map((i) => `load${name}(row + ${i}, kk, ${limit})`).join(', ')}); }`);
      }
      return lines.join('\n');
    };
    const stores = (name: 'A' | 'B', count: number, group: typeof groupA, stride: number) =>
      Array.from({ length: count }, (_, r) => `  { let e = t + ${r * threads}; ${name}s[(${group.k}) * ${stride} + ${group.q}] = reg${name}[${r}]; }`).join(
        '\n',
      );

    // One k step: A's vec4s for this thread's rows (`aAt(c)`), B's from workgroup row `k`.
    const step = (aAt: (c: number) => string, k: string, indent: string) => {
      const body: string[] = [];
      for (let c = 0; c < rm; c++) body.push(`${indent}let a${c} = ${aAt(c)};`);
      for (let d = 0; d < rn; d++) body.push(`${indent}let b${d} = Bs[${k} * ${bs} + ${d * bq} + tx];`);
      for (let c = 0; c < rm; c++) {
        for (let i = 0; i < 4; i++) {
          for (let d = 0; d < rn; d++) body.push(`${indent}acc[${(c * 4 + i) * rn + d}] += a${c}[${i}] * b${d};`);
        }
      }
      return body.join('\n');
    };
    const sharedLoop = (indent: string) => `${indent}for (var k = 0; k < ${bk}; k++) {
${step((c) => `As[k * ${as} + ${c * aq} + ty]`, 'k', `${indent}  `)}
${indent}}`;
    // Lane tx of a row reads A at k = kc + tx; round kk takes lane rowBase + kk's values.
    const shuffleLoop = `      for (var kc = 0; kc < ${bk}; kc += ${ntx}) {
${Array.from({ length: rm }, (_, c) => `        let held${c} = As[(kc + tx) * ${as} + ${c * aq} + ty];`).join('\n')}
        for (var kk = 0; kk < ${ntx}; kk++) {
${step((c) => `subgroupShuffle(held${c}, rowBase + u32(kk))`, '(kc + kk)', '          ')}
        }
      }`;
    const inner = this.subgroups
      ? `    if (shuffle) {
${shuffleLoop}
    } else {
${sharedLoop('      ')}
    }`
      : sharedLoop('    ');
    const subgroupCheck = this.subgroups ? `${subgroupRowsCheck(ntx, 't')}\n  let rowBase = sgLane - u32(tx);\n` : '';

    const writes: string[] = [];
    for (let c = 0; c < rm; c++) {
      for (let i = 0; i < 4; i++) {
        writes.push(`  { let m = m0 + ${c * (bm / rm)} + ty * 4 + ${i};`);
        writes.push(`    if (m < uniforms.M) {`);
        for (let d = 0; d < rn; d++) {
          writes.push(`      { let n = n0 + ${d * (bn / rn)} + tx * 4;`);
          writes.push(`        let value = finish(acc[${(c * 4 + i) * rn + d}], n);`);
          const plus = (at: string) => (this.accumulate ? `C[${at}] + ` : '');
          if (this.vecOut) {
            writes.push(`        if (n < uniforms.N) { C[(baseC + m * uniforms.N + n) / 4] = ${plus('(baseC + m * uniforms.N + n) / 4')}value; } }`);
          } else {
            const at = 'baseC + m * uniforms.N + n + j';
            writes.push(`        for (var j = 0; j < 4; j++) { if (n + j < uniforms.N) { C[${at}] = ${plus(at)}value[j]; } } }`);
          }
        }
        writes.push(`    } }`);
      }
    }

    const biasAt = (n: string) => (this.epilogue.bias === 'scalar' ? 'bias[0]' : `select(0.0, bias[min(${n}, uniforms.N - 1)], ${n} < uniforms.N)`);
    const finish =
      this.epilogue.bias === 'none' && this.epilogue.activation === 'linear'
        ? 'fn finish(v: vec4<f32>, n: i32) -> vec4<f32> { return v; }'
        : `fn finish(v: vec4<f32>, n: i32) -> vec4<f32> {
  let x = v${this.epilogue.bias === 'none' ? '' : ` + vec4<f32>(${[0, 1, 2, 3].map((j) => biasAt(`n + ${j}`)).join(', ')})`};
  return ${activationCode(this.epilogue)};
}`;
    return `${finish}
var<workgroup> As: array<vec4<f32>, ${bk * as}>;
var<workgroup> Bs: array<vec4<f32>, ${bk * bs}>;
${this.subgroups ? `${SUBGROUP_ROWS_STATE}\n` : ''}var<private> baseA: i32;
var<private> baseB: i32;
fn loadA(row: i32, k: i32, kEnd: i32) -> f32 {
  let ok = row < uniforms.M && k < kEnd;
  return select(0.0, A[select(0, baseA + ${groupA.at('row', 'k')}, ok)], ok);
}
fn loadB(col: i32, k: i32, kEnd: i32) -> f32 {
  let ok = col < uniforms.N && k < kEnd;
  return select(0.0, B[select(0, baseB + ${groupB.at('col', 'k')}, ok)], ok);
}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * ${ntx} + tx;
  let m0 = wid.y * ${bm};
  let n0 = wid.x * ${bn};
  baseA = wid.z * uniforms.strideA;
  baseB = wid.z * uniforms.strideB;
  let baseC = wid.z * uniforms.M * uniforms.N;
  var regA: array<vec4<f32>, ${la}>;
  var regB: array<vec4<f32>, ${lb}>;
  var acc: array<vec4<f32>, ${tm * rn}>;
  var k0 = 0;
${subgroupCheck}${loads('A', la, groupA, 'm0', 'uniforms.K')}
${loads('B', lb, groupB, 'n0', 'uniforms.K')}
  for (; k0 < uniforms.K; ) {
    workgroupBarrier();
${stores('A', la, groupA, as)}
${stores('B', lb, groupB, bs)}
    workgroupBarrier();
    k0 += ${bk};
    if (k0 < uniforms.K) {
${loads('A', la, groupA, 'm0', 'uniforms.K')}
${loads('B', lb, groupB, 'n0', 'uniforms.K')}
    }
${inner}
  }
${writes.join('\n')}
}`;
  }
}
