import { ShiftmixError, tf } from '@shiftmix/core';
import { ADAMW } from '@shiftmix/core/kernels';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { WEBGPU_BACKEND, dispatchHooks, foldedDispatch, runProgram, Program } from './runtime.js';
import { workgroupSumSnippet } from './wgsl.js';

const WORKGROUP = 256;
/** Elements one sum-of-squares workgroup covers per grid stride; sets how many partials a weight gets. */
const ELEMENTS_PER_PARTIAL = 16 * 1024;
const MAX_PARTIALS_PER_WEIGHT = 64;
/** Tuning of the fused AdamW; tests lower it to reach the grouping's edges on small models. */
export const adamwTuning = {
  /** Gradients one sum-of-squares dispatch reads at most (fewer where the stage binds fewer buffers). */
  maxGradientsPerDispatch: 15,
  /** Weights one update dispatch writes at most (fewer where the stage binds fewer buffers). */
  maxWeightsPerUpdate: 4,
};

function storageBuffersPerStage(backend: WebGPUBackend): number {
  return (backend as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
}

/** A float uniform as the i32 bits runtime.ts's uniforms carry. */
const bits = new Float32Array(1);
const bitsAsInt = new Int32Array(bits.buffer);
function f32Bits(value: number): number {
  bits[0] = value;
  return bitsAsInt[0];
}

// WGSL has no isinf/isnan, and a fast-math compiler may fold x != x away: test the exponent bits.
const IS_FINITE = `fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }`;

/**
 * Sums of g^2 for several gradients in one dispatch (as many as the stage binds beside
 * the output): gradient k owns workgroups first_k .. first_k + groups_k - 1, each writing
 * the sum over its grid-strided share to partials[base_k + its index among them].
 */
export class SumSquaresProgram extends Program {
  outputNames = ['partials'];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    private readonly gradients: number,
    workgroups: number,
  ) {
    super();
    const slots = Array.from({ length: gradients }, (_, k) => k);
    this.variableNames = slots.map((k) => `g${k}`);
    this.components = [1, ...slots.map(() => 1)];
    this.uniformNames = slots.flatMap((k) => [`count${k}`, `base${k}`, `first${k}`, `groups${k}`]);
    this.dispatch = [workgroups, 1, 1];
    this.shaderKey = `adamwSumSquares_${gradients}`;
  }

  getUserCode(): string {
    const slots = Array.from({ length: this.gradients }, (_, k) => k);
    // Bindings cannot be indexed at run time: a switch picks the gradient (uniform per workgroup).
    const cases = slots.map((k) => `    case ${k}: { return g${k}[i]; }`).join('\n');
    // select() nests from the last slot down: slot k picks uniforms.<name>k.
    const pick = (name: string) => slots.slice(1).reduce((acc, k) => `select(${acc}, uniforms.${name}${k}, slot == ${k})`, `uniforms.${name}0`);
    return `var<workgroup> sums: array<f32, ${WORKGROUP}>;
fn load(slot: i32, i: i32) -> f32 {
  switch slot {
${cases}
    default: { return 0.0; }
  }
}
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  var slot = 0;
  ${slots
    .slice(1)
    .map((k) => `if (wid.x >= uniforms.first${k}) { slot = ${k}; }`)
    .join('\n  ')}
  let count = ${pick('count')};
  let local = wid.x - ${pick('first')};
  let stride = ${pick('groups')} * ${WORKGROUP};
  var acc = 0.0;
  var i = local * ${WORKGROUP} + lid.x;
  loop {
    if (i >= count) { break; }
    let x = load(slot, i);
    acc = acc + x * x;
    i = i + stride;
  }
  sums[lid.x] = acc;
  ${workgroupSumSnippet('sums', WORKGROUP)}
  if (lid.x == 0) { partials[${pick('base')} + local] = sums[0]; }
}`;
  }
}

/**
 * One workgroup: report = (norm, 1 when applied else 0) with norm = sqrt(sum of the
 * partials); stats = (clip scale, the same applied flag, step size, sqrt of the second
 * bias correction, weight-decay factor) for the update kernels, which read it instead of
 * the host. The scalars that change every step (lr and step) reach the update kernels only
 * through stats: this dispatch's uniforms are then the only ones a step rewrites. A step applies when the loss and the norm are finite and
 * `halt` is 0; a step that does not sets `halt` to 1, so that the steps queued behind it
 * change nothing either until the host, having read this one, clears it.
 */
export class ClipStatsProgram extends Program {
  outputNames = ['report', 'stats', 'halt'];
  variableNames = ['partials', 'loss'];
  components = [1, 1, 1, 1, 1];
  uniformNames = ['slots', 'maxNorm', 'stepSize', 'sqrtBc2', 'decay'];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  dispatch: [number, number, number] = [1, 1, 1];
  shaderKey = 'adamwClipStats';

  getUserCode(): string {
    return `${IS_FINITE}
var<workgroup> sums: array<f32, ${WORKGROUP}>;
fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  var acc = 0.0;
  var i = lid.x;
  loop {
    if (i >= uniforms.slots) { break; }
    acc = acc + partials[i];
    i = i + ${WORKGROUP};
  }
  sums[lid.x] = acc;
  ${workgroupSumSnippet('sums', WORKGROUP)}
  if (lid.x == 0) {
    let total = sqrt(sums[0]);
    let maxNorm = bitcast<f32>(uniforms.maxNorm);
    let applied = isFinite(total) && isFinite(loss[0]) && halt[0] == 0.0;
    report[0] = total;
    report[1] = select(0.0, 1.0, applied);
    // PyTorch's clip_grad_norm_: max_norm / (norm + 1e-6), never above 1.
    stats[0] = select(1.0, min(1.0, maxNorm / (total + 1e-6)), maxNorm > 0.0);
    stats[1] = report[1];
    stats[2] = bitcast<f32>(uniforms.stepSize);
    stats[3] = bitcast<f32>(uniforms.sqrtBc2);
    stats[4] = bitcast<f32>(uniforms.decay);
    if (!applied) { halt[0] = 1.0; }
  }
}`;
  }
}

/**
 * AdamW in place on several weights of one vector width: slot k updates p_k, m_k, v_k
 * from g_k scaled by the clip factor over workgroups first_k .. first_k + groups_k - 1.
 * Nothing is written when stats[1] says the step is not finite.
 */
export class AdamWUpdateProgram extends Program {
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    private readonly width: 1 | 4,
    private readonly weights: number,
    workgroups: number,
  ) {
    super();
    const slots = Array.from({ length: weights }, (_, k) => k);
    this.outputNames = slots.flatMap((k) => [`p${k}`, `m${k}`, `v${k}`]);
    this.variableNames = [...slots.map((k) => `g${k}`), 'stats'];
    this.components = [...slots.flatMap(() => [width, width, width]), ...slots.map(() => width), 1];
    this.uniformNames = [...['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'eps'], ...slots.flatMap((k) => [`count${k}`, `first${k}`, `decays${k}`])];
    this.dispatch = foldedDispatch(workgroups);
    this.shaderKey = `adamwUpdate_${width}_${weights}`;
  }

  getUserCode(): string {
    const t = this.width === 4 ? 'vec4<f32>' : 'f32';
    const slots = Array.from({ length: this.weights }, (_, k) => k);
    const f = (name: string) => `bitcast<f32>(uniforms.${name})`;
    // The same products, in the same order, as core's composite AdamW.apply.
    const update = (k: number) => `{
      let i = (group - uniforms.first${k}) * ${WORKGROUP} + lid.x;
      if (i >= uniforms.count${k}) { return; }
      let grad = g${k}[i] * stats[0];
      let mNext = m${k}[i] * ${f('beta1')} + grad * ${f('oneMinusBeta1')};
      let vNext = v${k}[i] * ${f('beta2')} + (grad * grad) * ${f('oneMinusBeta2')};
      let denom = sqrt(vNext) / stats[3] + ${t}(${f('eps')});
      let decay = select(1.0, stats[4], uniforms.decays${k} != 0);
      p${k}[i] = p${k}[i] * decay - (mNext / denom) * stats[2];
      m${k}[i] = mNext;
      v${k}[i] = vNext;
    }`;
    return `fn main(lid: vec3<i32>, wid: vec3<i32>, nwg: vec3<i32>) {
  if (stats[1] == 0.0) { return; }
  let group = wid.y * nwg.x + wid.x;
  var slot = 0;
  ${slots
    .slice(1)
    .map((k) => `if (group >= uniforms.first${k}) { slot = ${k}; }`)
    .join('\n  ')}
  // Bindings cannot be indexed at run time: a switch picks the weight (uniform per workgroup).
  switch slot {
    ${slots.map((k) => `case ${k}: ${update(k)}`).join('\n    ')}
    default: {}
  }
}`;
  }
}

// Programs are immutable once made: a step (and a compiled step's dry run of it, every
// step) takes them from here instead of building their name lists again.
const CLIP_STATS = new ClipStatsProgram();
const programs = new Map<string, Program>();
function cached<P extends Program>(key: string, make: () => P): P {
  let program = programs.get(key);
  if (!program) programs.set(key, (program = make()));
  return program as P;
}
const sumSquaresProgram = (gradients: number, workgroups: number) => cached(`s${gradients}_${workgroups}`, () => new SumSquaresProgram(gradients, workgroups));
const updateProgram = (width: 1 | 4, weights: number, workgroups: number) =>
  cached(`u${width}_${weights}_${workgroups}`, () => new AdamWUpdateProgram(width, weights, workgroups));

// The input names of weight i ("p3", "m3", "v3", "g3"), made once: a step looks up four per
// weight, and a compiled step's dry run does so every step.
const names: { p: string; m: string; v: string; g: string }[] = [];
function namesOf(i: number): { p: string; m: string; v: string; g: string } {
  for (let k = names.length; k <= i; k++) names.push({ p: `p${k}`, m: `m${k}`, v: `v${k}`, g: `g${k}` });
  return names[i];
}

interface TensorData {
  values?: unknown;
  refCount: number;
}

interface InternalBackend {
  tensorMap: { get(dataId: object): TensorData };
}

function checkAttrs(attrs: tf.NamedAttrMap, inputs: Record<string, tf.TensorInfo>): number {
  const count = attrs.count as number;
  const decays = attrs.decays as number[];
  const step = attrs.step as number;
  const halt = inputs.halt;
  const haltOk = halt && halt.dtype === 'float32' && tf.util.sizeFromShape(halt.shape) === 1;
  if (!Number.isInteger(count) || count < 1 || !Array.isArray(decays) || decays.length !== count || !(step >= 1) || !inputs.loss || !haltOk) {
    throw new ShiftmixError(
      `${ADAMW.name} needs attrs.count >= 1, one attrs.decays entry per weight, attrs.step >= 1, a loss input and a float32 halt input of one element`,
      "Run it through core's AdamW.clipAndApply",
      'E_INPUT',
    );
  }
  for (let i = 0; i < count; i++) {
    const n = namesOf(i);
    const [p, m, v, g] = [inputs[n.p], inputs[n.m], inputs[n.v], inputs[n.g]];
    const same = p && m && v && g && [m, v, g].every((x) => tf.util.arraysEqual(x.shape, p.shape) && x.dtype === 'float32');
    if (!same || p.dtype !== 'float32') {
      throw new ShiftmixError(`${ADAMW.name}: weight ${i} lacks p, m, v or g of one float32 shape`, "Run it through core's AdamW.clipAndApply", 'E_INPUT');
    }
  }
  return count;
}

/**
 * The in-place update writes into the weights', the moments' and the halt flag's own
 * buffers. A buffer that another tensor shares (refCount > 1) would change under that
 * tensor too, so that is refused before anything runs (core's AdamW gives each its own
 * buffer first). `infos` holds p, m, v per weight, then the halt flag.
 */
function checkInPlace(be: InternalBackend, infos: tf.TensorInfo[]): void {
  infos.forEach((info, k) => {
    const shared = be.tensorMap.get(info.dataId).refCount - 1;
    if (shared > 0) {
      const what = k === infos.length - 1 ? 'the halt flag' : `${['weight', 'first moment', 'second moment'][k % 3]} ${Math.floor(k / 3)}`;
      throw new ShiftmixError(
        `${ADAMW.name} would update ${what} in place, but ${shared} other tensor(s) share its buffer`,
        "Run it through core's AdamW.clipAndApply, which gives every weight and moment its own buffer",
        'E_INPUT',
      );
    }
  });
}

/**
 * Fused global-norm clip and AdamW for every weight: sums of squares for up to 15 gradients
 * per dispatch, one dispatch for the norm and clip scale, and updates for a few weights per
 * dispatch (as many as the stage's storage-buffer limit binds). Returns (norm, applied).
 */
export function adamwKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const named = inputs as Record<string, tf.TensorInfo>;
  const a = attrs ?? {};
  const count = checkAttrs(a, named);
  const be = backend as WebGPUBackend;
  const internal = be as unknown as InternalBackend;
  const updated: tf.TensorInfo[] = [];
  for (let i = 0; i < count; i++) {
    const n = namesOf(i);
    updated.push(named[n.p], named[n.m], named[n.v]);
  }
  // A compiled step's dry run (every step) writes no buffer: the in-place check and the
  // host copies' invalidation below are for runs that do.
  const writes = !dispatchHooks.dryRun;
  if (writes) checkInPlace(internal, [...updated, named.halt]);
  const sizes = Array.from({ length: count }, (_, i) => tf.util.sizeFromShape(named[namesOf(i).p].shape));
  const partialsPer = sizes.map((n) => Math.min(MAX_PARTIALS_PER_WEIGHT, Math.max(1, Math.ceil(n / ELEMENTS_PER_PARTIAL))));
  const slots = partialsPer.reduce((s, n) => s + n, 0);
  const partials = be.makeTensorInfo([slots], 'float32');
  // One sum-of-squares dispatch per group of gradients the stage can bind beside the output.
  const perDispatch = Math.max(1, Math.min(adamwTuning.maxGradientsPerDispatch, storageBuffersPerStage(be) - 1));
  const nonEmpty = sizes.flatMap((n, i) => (n > 0 ? [i] : []));
  let base = 0;
  for (let start = 0; start < nonEmpty.length; start += perDispatch) {
    const group = nonEmpty.slice(start, start + perDispatch);
    let first = 0;
    const uniforms: number[] = [];
    for (const i of group) {
      uniforms.push(sizes[i], base, first, partialsPer[i]);
      base += partialsPer[i];
      first += partialsPer[i];
    }
    runProgram(
      be,
      sumSquaresProgram(group.length, first),
      group.map((i) => named[namesOf(i).g]),
      [partials],
      uniforms,
    );
  }
  const { lr, beta1, beta2, eps, weightDecay, step } = a as Record<string, number>;
  const stepSize = lr / (1 - beta1 ** step);
  const sqrtBc2 = Math.sqrt(1 - beta2 ** step);
  const decay = 1 - lr * weightDecay;
  const report = be.makeTensorInfo([2], 'float32');
  const stats = be.makeTensorInfo([5], 'float32');
  const clipUniforms = [base, ...[a.maxNorm as number, stepSize, sqrtBc2, decay].map(f32Bits)];
  runProgram(be, CLIP_STATS, [partials, named.loss], [report, stats, named.halt], clipUniforms);

  const decays = a.decays as number[];
  const shared = [beta1, 1 - beta1, beta2, 1 - beta2, eps].map(f32Bits);
  // Weights that take vec4 loads and those that do not go in separate dispatches, each
  // binding 4 buffers per weight next to stats.
  const perUpdate = Math.max(1, Math.min(adamwTuning.maxWeightsPerUpdate, Math.floor((storageBuffersPerStage(be) - 1) / 4)));
  for (const width of [4, 1] as const) {
    const members = nonEmpty.filter((i) => (sizes[i] % 4 === 0 ? 4 : 1) === width);
    for (let start = 0; start < members.length; start += perUpdate) {
      const group = members.slice(start, start + perUpdate);
      const uniforms = [...shared];
      let first = 0;
      for (const i of group) {
        uniforms.push(sizes[i] / width, first, weightDecay > 0 && decays[i] ? 1 : 0);
        first += Math.ceil(sizes[i] / width / WORKGROUP);
      }
      const outputs = group.flatMap((i) => updated.slice(3 * i, 3 * i + 3));
      runProgram(be, updateProgram(width, group.length, first), [...group.map((i) => named[namesOf(i).g]), stats], outputs, uniforms);
      // A host copy cached by an earlier read would now be stale.
      if (writes) for (const info of outputs) internal.tensorMap.get(info.dataId).values = null;
    }
  }
  if (writes) internal.tensorMap.get(named.halt.dataId).values = null;
  be.disposeData(partials.dataId);
  be.disposeData(stats.dataId);
  return report;
}

ADAMW.implement(WEBGPU_BACKEND, adamwKernel as unknown as tf.KernelFunc);
