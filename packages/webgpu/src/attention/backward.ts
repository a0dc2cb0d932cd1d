import { foldedDispatch, Program } from '../runtime.js';
import { TiledAttentionProgram, blockDots, four, sixteen, type AttentionSetup } from './forward.js';
import { VISIBLE, componentsOf, dropoutSnippet, f32, keyBlocksOf, rowReader, rowWrite, rowWriter, tileLoad, zeroFour, blockMain } from './wgsl.js';

const ROW_THREADS = 64;

/** D[row] = dO[row] . O[row], the softmax backward's per-row correction, [B*H*T]. */
export class AttentionRowDotProgram extends Program {
  outputNames = ['D'];
  variableNames = ['dO', 'O'];
  uniformNames = ['rows', 'T'];
  workgroupSize: [number, number, number] = [ROW_THREADS, 1, 1];

  constructor(private readonly setup: AttentionSetup) {
    super();
    this.components = componentsOf([...this.outputNames, ...this.variableNames], setup.layout);
    this.dispatch = foldedDispatch(Math.ceil((setup.heads * setup.length) / ROW_THREADS));
    const { hd, packedHeads } = setup.layout;
    this.shaderKey = `shiftmixAttentionRowDot_${hd}${packedHeads ? `_p${packedHeads}` : ''}`;
  }

  getUserCode(): string {
    const { layout } = this.setup;
    return `${rowReader('dO', layout)}
${rowReader('O', layout)}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  let row = (wid.y * nwg.x + wid.x) * ${ROW_THREADS} + lid.x;
  if (row >= uniforms.rows) { return; }
  var acc = 0.0;
  for (var d4 = 0; d4 < ${layout.hd4}; d4++) { acc += dot(read_dO(row, d4), read_O(row, d4)); }
  D[row] = acc;
}`;
  }
}

/** Shared prologue of the two gradient kernels, which write the rows of `outputs`. */
function gradHeader(setup: AttentionSetup, threads: number, outputs: string[]): string {
  const { layout, dropoutRate, dropoutThreshold } = setup;
  return `const NT: i32 = ${threads};
${['Q', 'K', 'V', 'dO'].map((b) => rowReader(b, layout)).join('\n')}
${outputs.map((b) => rowWriter(b, layout)).join('\n')}
${VISIBLE}
${dropoutSnippet(dropoutThreshold, dropoutRate)}`;
}

/**
 * dK and dV: one workgroup per block of bk keys of one head, walking the query blocks
 * that see them. Per step it recomputes S^T = K Q^T and P^T = exp(S^T - lse) from the
 * saved logsumexp, dP^T = V dO^T, dS = P (dP - D) in registers, then accumulates
 * dV += P~^T dO (P~: P after dropout) and dK += dS^T Q through workgroup memory.
 * Packed, it writes the dK and dV channel ranges of dQKV, and the dQ program the rest:
 * two dispatches writing disjoint parts of one buffer, each bound once.
 */
export class AttentionKeyGradProgram extends TiledAttentionProgram {
  constructor(
    setup: AttentionSetup,
    private readonly tile: { bk: number; bq: number },
  ) {
    super(setup, 'shiftmixAttentionKeyGrad', { outputs: ['dK', 'dV'], inputs: ['Q', 'K', 'V', 'dO', 'lse', 'D'] }, { rows: tile.bk, cols: tile.bq });
  }

  getUserCode(): string {
    const { layout, scale } = this.setup;
    const { bk, bq } = this.tile;
    const { tx, ty, nc, cols, hd4, s4 } = this.grid(bq, bk);
    const pq = bq + 1;
    return `${gradHeader(this.setup, tx * ty, ['dK', 'dV'])}
var<workgroup> Ks: array<vec4<f32>, ${bk * s4}>;
var<workgroup> Vs: array<vec4<f32>, ${bk * s4}>;
var<workgroup> Qs: array<vec4<f32>, ${bq * s4 + nc * tx}>;
var<workgroup> dOs: array<vec4<f32>, ${bq * s4 + nc * tx}>;
var<workgroup> Pt: array<f32, ${bk * pq}>;
var<workgroup> dSt: array<f32, ${bk * pq}>;
var<workgroup> lseS: array<f32, ${bq}>;
var<workgroup> Ds: array<f32, ${bq}>;
${blockMain(tx, 'k0', bk, { into: 'Ks', from: 'K', layout })}
  ${tileLoad('Vs', 'V', layout, 'k0', bk)}
  var dk: array<vec4<f32>, ${4 * nc}>;
  var dv: array<vec4<f32>, ${4 * nc}>;
  var st: array<vec4<f32>, 4>;
  var dpt: array<vec4<f32>, 4>;
  var qEnd = uniforms.T;
  if (uniforms.window > 0) { qEnd = min(qEnd, k0 + ${bk} - 1 + uniforms.window); }
  for (var q0 = (k0 / ${bq}) * ${bq}; q0 < qEnd; q0 += ${bq}) {
    workgroupBarrier();
    ${tileLoad('Qs', 'Q', layout, 'q0', bq)}
    ${tileLoad('dOs', 'dO', layout, 'q0', bq)}
    for (var r = tid; r < ${bq}; r += NT) {
      let t = min(q0 + r, uniforms.T - 1);
      lseS[r] = lse[bh * uniforms.T + t];
      Ds[r] = D[bh * uniforms.T + t];
    }
    workgroupBarrier();
    let full = fullTile(q0, ${bq}, k0, ${bk});
    ${zeroFour('st')}
    ${zeroFour('dpt')}
    // Two passes over hd keep half as many operands live as one (fewer registers).
${blockDots('st', { tile: 'Ks', name: 'kv' }, { tile: 'Qs', name: 'qv' }, layout, tx, ty)}
${blockDots('dpt', { tile: 'Vs', name: 'vv' }, { tile: 'dOs', name: 'ov' }, layout, tx, ty)}
${sixteen(
  (i, j) => `    { let key = k0 + ty + ${i * ty};
      let qi = q0 + tx + ${j * tx};
      let p = select(0.0, exp(st[${i}][${j}] * ${f32(scale)} - lseS[tx + ${j * tx}]), full || visible(qi, key));
      let keep = keepScale(qi, key);
      Pt[(ty + ${i * ty}) * ${pq} + tx + ${j * tx}] = p * keep;
      dSt[(ty + ${i * ty}) * ${pq} + tx + ${j * tx}] = p * (dpt[${i}][${j}] * keep - Ds[tx + ${j * tx}]); }`,
)}
    workgroupBarrier();
    for (var qq = 0; qq < ${bq}; qq++) {
${four(
  (i) => `      let p${i} = Pt[(ty + ${i * ty}) * ${pq} + qq];
      let g${i} = dSt[(ty + ${i * ty}) * ${pq} + qq];`,
)}
${cols(
  (n) => `      { let ov = dOs[qq * ${s4} + tx + ${n * tx}];
        let qv = Qs[qq * ${s4} + tx + ${n * tx}];
${four(
  (i) => `        dv[${i * nc + n}] += p${i} * ov;
        dk[${i * nc + n}] += g${i} * qv;`,
)} }`,
)}
    }
  }
${four(
  (i) => `  { let key = k0 + ty + ${i * ty};
    if (key < uniforms.T) {
      let row = bh * uniforms.T + key;
${cols(
  (n) => `      if (tx + ${n * tx} < ${hd4}) {
        ${rowWrite('dK', layout, 'row', `tx + ${n * tx}`, `dk[${i * nc + n}] * ${f32(scale)}`)}
        ${rowWrite('dV', layout, 'row', `tx + ${n * tx}`, `dv[${i * nc + n}]`)}
      }`,
)}
    }
  }`,
)}
}`;
  }
}

/**
 * dQ: one workgroup per block of bq queries of one head, walking the visible key
 * blocks like the forward; recomputes P and dS the same way and accumulates
 * dQ += dS K through workgroup memory.
 */
export class AttentionQueryGradProgram extends TiledAttentionProgram {
  constructor(
    setup: AttentionSetup,
    private readonly tile: { bq: number; bk: number },
  ) {
    super(setup, 'shiftmixAttentionQueryGrad', { outputs: ['dQ'], inputs: ['Q', 'K', 'V', 'dO', 'lse', 'D'] }, { rows: tile.bq, cols: tile.bk });
  }

  getUserCode(): string {
    const { layout, scale } = this.setup;
    const { bq, bk } = this.tile;
    const { tx, ty, nc, cols, hd4, s4 } = this.grid(bk, bq);
    const ps = bq + 1;
    return `${gradHeader(this.setup, tx * ty, ['dQ'])}
var<workgroup> Qs: array<vec4<f32>, ${bq * s4}>;
var<workgroup> dOs: array<vec4<f32>, ${bq * s4}>;
var<workgroup> Ks: array<vec4<f32>, ${bk * s4 + nc * tx}>;
var<workgroup> Vs: array<vec4<f32>, ${bk * s4}>;
var<workgroup> dSs: array<f32, ${bk * ps}>;
${blockMain(tx, 'q0', bq, { into: 'Qs', from: 'Q', layout })}
  ${tileLoad('dOs', 'dO', layout, 'q0', bq)}
${four(
  (i) => `  let lse${i} = lse[bh * uniforms.T + min(q0 + ty + ${i * ty}, uniforms.T - 1)];
  let dd${i} = D[bh * uniforms.T + min(q0 + ty + ${i * ty}, uniforms.T - 1)];`,
)}
  var dq: array<vec4<f32>, ${4 * nc}>;
  var s: array<vec4<f32>, 4>;
  var dp: array<vec4<f32>, 4>;
  ${keyBlocksOf(layout, bq, bk)}
    ${zeroFour('s')}
    ${zeroFour('dp')}
${blockDots('s', { tile: 'Qs', name: 'qv' }, { tile: 'Ks', name: 'kv' }, layout, tx, ty)}
${blockDots('dp', { tile: 'dOs', name: 'ov' }, { tile: 'Vs', name: 'vv' }, layout, tx, ty)}
${sixteen(
  (i, j) => `    { let qi = q0 + ty + ${i * ty};
      let key = k0 + tx + ${j * tx};
      let p = select(0.0, exp(s[${i}][${j}] * ${f32(scale)} - lse${i}), full || visible(qi, key));
      dSs[(tx + ${j * tx}) * ${ps} + ty + ${i * ty}] = p * (dp[${i}][${j}] * keepScale(qi, key) - dd${i}); }`,
)}
    workgroupBarrier();
    for (var kk = 0; kk < ${bk}; kk++) {
${four((i) => `      let g${i} = dSs[kk * ${ps} + ty + ${i * ty}];`)}
${cols(
  (n) => `      { let kv = Ks[kk * ${s4} + tx + ${n * tx}];
${four((i) => `        dq[${i * nc + n}] += g${i} * kv;`)} }`,
)}
    }
  }
${four(
  (i) => `  { let qi = q0 + ty + ${i * ty};
    if (qi < uniforms.T) {
${cols((n) => `      if (tx + ${n * tx} < ${hd4}) { ${rowWrite('dQ', layout, 'bh * uniforms.T + qi', `tx + ${n * tx}`, `dq[${i * nc + n}] * ${f32(scale)}`)} }`)}
    }
  }`,
)}
}`;
  }
}
