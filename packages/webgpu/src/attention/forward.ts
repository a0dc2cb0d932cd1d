import { columnSlots } from './tiles.js';
import {
  NEG,
  VISIBLE,
  bindingsOf,
  componentsOf,
  dropoutSnippet,
  f32,
  keyBlocksOf,
  rowReader,
  rowWrite,
  rowWriter,
  zeroFour,
  type HeadLayout,
  blockMain,
} from './wgsl.js';
import { Program } from '../runtime.js';

/** What every attention program bakes into its shader besides its tile. */
export interface AttentionSetup {
  layout: HeadLayout;
  /** Number of (batch, head) pairs; one workgroup row per pair. */
  heads: number;
  length: number;
  scale: number;
  dropoutRate: number;
  dropoutThreshold: number;
}

export function setupKey(setup: AttentionSetup): string {
  const { hd, packedHeads } = setup.layout;
  return `${hd}_${f32(setup.scale)}_${setup.dropoutRate > 0 ? setup.dropoutThreshold : 0}${packedHeads ? `_p${packedHeads}` : ''}`;
}

/** Unrolls `line(i)` for i = 0..3. */
export function four(line: (i: number) => string): string {
  return [0, 1, 2, 3].map(line).join('\n');
}

/** Unrolls `line(i, j)` over the 4 x 4 block of a thread. */
export function sixteen(line: (i: number, j: number) => string): string {
  return [0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].map((j) => line(i, j))).join('\n');
}

/**
 * The loop adding a thread's 4 x 4 block of row dot products over hd to `acc`:
 * acc[i][j] += rows[ty + i ty] . cols[tx + j tx], the rows and columns read from the
 * workgroup arrays `rows` and `cols` as `r<i>` and `c<j>` (named after what they hold).
 */
export function blockDots(
  acc: string,
  rows: { tile: string; name: string },
  cols: { tile: string; name: string },
  layout: HeadLayout,
  tx: number,
  ty: number,
): string {
  const { hd4, s4 } = layout;
  const [r, c] = [rows.name, cols.name];
  return `    for (var d4 = 0; d4 < ${hd4}; d4++) {
${four((i) => `      let ${r}${i} = ${rows.tile}[(ty + ${i * ty}) * ${s4} + d4];`)}
${four((j) => `      let ${c}${j} = ${cols.tile}[(tx + ${j * tx}) * ${s4} + d4];`)}
${four((i) => `      ${acc}[${i}] += vec4<f32>(dot(${r}${i}, ${c}0), dot(${r}${i}, ${c}1), dot(${r}${i}, ${c}2), dot(${r}${i}, ${c}3));`)}
    }`;
}

/**
 * What the three tiled attention programs share: bindings from the logical buffers in
 * the setup's layout, the uniforms, (rows / 4) x (cols / 4) threads and one workgroup per
 * block of `rows` (queries, or keys for dK/dV) of each head.
 */
export abstract class TiledAttentionProgram extends Program {
  uniformNames = ['T', 'window', 'seed'];

  constructor(
    protected readonly setup: AttentionSetup,
    kind: string,
    buffers: { outputs: string[]; inputs: string[] },
    block: { rows: number; cols: number },
  ) {
    super();
    this.outputNames = bindingsOf(buffers.outputs, setup.layout);
    this.variableNames = bindingsOf(buffers.inputs, setup.layout);
    this.components = componentsOf([...this.outputNames, ...this.variableNames], setup.layout);
    this.workgroupSize = [(block.rows / 4) * (block.cols / 4), 1, 1];
    this.dispatch = [Math.ceil(setup.length / block.rows), setup.heads, 1];
    this.shaderKey = `${kind}_${block.rows}x${block.cols}_${setupKey(setup)}`;
  }

  /**
   * The thread grid of a block `across` wide and `down` tall (4 x 4 of it per thread), the
   * column slots `nc` each thread covers in a row of hd / 4, and `cols`, which repeats a
   * line of WGSL for each of them.
   */
  protected grid(across: number, down: number) {
    const [tx, ty] = [across / 4, down / 4];
    const nc = columnSlots(this.setup.layout, tx) / tx;
    const cols = (line: (n: number) => string) => Array.from({ length: nc }, (_, n) => line(n)).join('\n');
    return { tx, ty, nc, cols, hd4: this.setup.layout.hd4, s4: this.setup.layout.s4 };
  }

  abstract getUserCode(): string;
}

/**
 * Flash-attention forward: one workgroup per block of bq queries of one head, walking
 * the key blocks that the causal mask (and window) leave visible. Scores live in
 * registers, the running max m and sum l per row give the online softmax, P goes
 * through workgroup memory into O += P V; nothing of size T x T reaches global memory.
 * Writes O and the per-row logsumexp (in units of scaled scores) for the backward.
 * Reads q, k, v and writes O in the setup's row layout (contiguous or packed).
 */
export class AttentionForwardProgram extends TiledAttentionProgram {
  constructor(
    setup: AttentionSetup,
    private readonly tile: { bq: number; bk: number },
  ) {
    super(setup, 'shiftmixAttention', { outputs: ['O', 'lse'], inputs: ['Q', 'K', 'V'] }, { rows: tile.bq, cols: tile.bk });
  }

  getUserCode(): string {
    const { layout, scale, dropoutRate, dropoutThreshold } = this.setup;
    const { bq, bk } = this.tile;
    const { tx, ty, nc, cols, hd4, s4 } = this.grid(bk, bq);
    const ps = bq + 1;
    return `const NT: i32 = ${tx * ty};
var<workgroup> Qs: array<vec4<f32>, ${bq * s4}>;
var<workgroup> Ks: array<vec4<f32>, ${bk * s4}>;
var<workgroup> Vs: array<vec4<f32>, ${bk * s4 + nc * tx}>;
var<workgroup> Ps: array<f32, ${bk * ps}>;
var<workgroup> red: array<f32, ${bq * tx}>;
${rowReader('Q', layout)}
${rowReader('K', layout)}
${rowReader('V', layout)}
${rowWriter('O', layout)}
${VISIBLE}
${dropoutSnippet(dropoutThreshold, dropoutRate)}
${blockMain(tx, 'q0', bq, { into: 'Qs', from: 'Q', layout })}
  var m = array<f32, 4>(${NEG}, ${NEG}, ${NEG}, ${NEG});
  var l = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  var o: array<vec4<f32>, ${4 * nc}>;
  var s: array<vec4<f32>, 4>;
  var best: f32;
  var tileMax: f32;
  ${keyBlocksOf(layout, bq, bk)}
    ${zeroFour('s')}
${blockDots('s', { tile: 'Qs', name: 'qv' }, { tile: 'Ks', name: 'kv' }, layout, tx, ty)}
${four(
  (i) => `    { best = ${NEG};
${four((j) => `      if (full || visible(q0 + ty + ${i * ty}, k0 + tx + ${j * tx})) { s[${i}][${j}] *= ${f32(scale)}; best = max(best, s[${i}][${j}]); }`)}
      red[(ty + ${i * ty}) * ${tx} + tx] = best; }`,
)}
    workgroupBarrier();
${four(
  (i) => `    { let qi = q0 + ty + ${i * ty};
      tileMax = ${NEG};
      for (var x = 0; x < ${tx}; x++) { tileMax = max(tileMax, red[(ty + ${i * ty}) * ${tx} + x]); }
      let mNew = max(m[${i}], tileMax);
      let alpha = exp(m[${i}] - mNew);
      m[${i}] = mNew;
      l[${i}] *= alpha;
${cols((n) => `      o[${i * nc + n}] *= alpha;`)}
${four(
  (j) => `      { let kj = k0 + tx + ${j * tx};
        let p = select(0.0, exp(s[${i}][${j}] - mNew), full || visible(qi, kj));
        l[${i}] += p;
        Ps[(tx + ${j * tx}) * ${ps} + ty + ${i * ty}] = p * keepScale(qi, kj); }`,
)}
    }`,
)}
    workgroupBarrier();
    for (var kk = 0; kk < ${bk}; kk++) {
${four((i) => `      let p${i} = Ps[kk * ${ps} + ty + ${i * ty}];`)}
${cols(
  (n) => `      { let v = Vs[kk * ${s4} + tx + ${n * tx}];
${four((i) => `        o[${i * nc + n}] += p${i} * v;`)} }`,
)}
    }
  }
  workgroupBarrier();
${four((i) => `  red[(ty + ${i * ty}) * ${tx} + tx] = l[${i}];`)}
  workgroupBarrier();
${four(
  (i) => `  { let qi = q0 + ty + ${i * ty};
    best = 0.0;
    for (var x = 0; x < ${tx}; x++) { best += red[(ty + ${i * ty}) * ${tx} + x]; }
    let total = best;
    if (qi < uniforms.T) {
      let row = bh * uniforms.T + qi;
      let inv = 1.0 / total;
${cols((n) => `      if (tx + ${n * tx} < ${hd4}) { ${rowWrite('O', layout, 'row', `tx + ${n * tx}`, `o[${i * nc + n}] * inv`)} }`)}
      if (tx == 0) { lse[row] = m[${i}] + log(total); }
    }
  }`,
)}
}`;
  }
}
