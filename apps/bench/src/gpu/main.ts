import { computeShiftSchedule, tf } from '@shiftmix/core';
import { HSM_AB, HSM_AB_GRAD } from '@shiftmix/core/kernels';
import { activateWebGpu, kernelTuning, type DawnBackend } from '@shiftmix/webgpu';
import { benchFusionBlend, benchHsmAb, sweepHsmAbBackward, type OpResult, type Shape } from './cases.js';
import { copyBandwidth, dispatchOverheadUs } from './measure.js';
import { parseEntryFlags, refuseSoftwareAdapter, runGpuEntry, writeJsonReport } from './entry.js';

// The (a,b) mix's backward launch shape, which the sweep varies.
const backwardTuning = (): Record<string, number> => kernelTuning(HSM_AB_GRAD.name)!;

const USAGE = `GPU benchmark of the fused HSM kernels on WebGPU (Dawn in Node).

  node apps/bench/dist/gpu/main.js [--sizes 16x1024x1024,64x256x384] [--budget-ms 200]
                                   [--sweep] [--quick] [--backend auto|vulkan|opengles] [--submit-batch N]
                                   [--out file.json]

Measures the device copy bandwidth, then per shape B x T x D the fused forward and backward
kernels (time, GB/s, fraction of copy bandwidth) against tf.grads through the composite
tfjs ops. Shifts are those of layer 3 of a 6-layer radix schedule at that T.`;

const values = parseEntryFlags(
  {
    sizes: { type: 'string', default: '16x1024x1024,64x256x384,4x4096x1024' },
    'budget-ms': { type: 'string', default: '200' },
    sweep: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    'submit-batch': { type: 'string' },
    out: { type: 'string', default: 'gpu-bench.json' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);

function parseShape(text: string): Shape {
  const parts = text.split('x').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1)) throw new Error(`bad size "${text}", expected BxTxD such as 16x1024x1024`);
  return parts as Shape;
}

function layerShifts([, time, dim]: Shape): number[] {
  return computeShiftSchedule('radix', 6, time, dim).shifts[2];
}

const fmt = (x: number, digits = 3) => x.toPrecision(digits);

const gpu = (t: { ms: number; gpuMs?: number }) => (t.gpuMs === undefined ? '-' : fmt(t.gpuMs));

function table(results: OpResult[], copyGBs: number): string {
  const head = [
    'op',
    'B x T x D',
    'shifts',
    'fwd ms',
    'bwd ms',
    'fused f+b ms',
    'GB/s',
    '% copy',
    'fused grads ms',
    'composite ms',
    'x vs composite',
    'max rel err',
  ];
  const rows = results.map((r) => {
    const gbs = r.achievedGpuGBs ?? r.achievedGBs;
    return [
      r.op,
      r.shape.join('x'),
      r.shifts.join(','),
      `${fmt(r.forward.ms)} / ${gpu(r.forward)}`,
      `${fmt(r.backward.ms)} / ${gpu(r.backward)}`,
      `${fmt(r.fusedKernels.ms)} / ${gpu(r.fusedKernels)}`,
      fmt(gbs, 4),
      `${fmt((100 * gbs) / copyGBs)}%`,
      `${fmt(r.fusedGrads.ms)} / ${gpu(r.fusedGrads)}`,
      `${fmt(r.compositeGrads.ms)} / ${gpu(r.compositeGrads)}`,
      `${fmt(r.compositeGrads.ms / r.fusedGrads.ms)} (gpu ${r.compositeGrads.gpuMs && r.fusedGrads.gpuMs ? fmt(r.compositeGrads.gpuMs / r.fusedGrads.gpuMs) : '-'})`,
      r.maxRelativeError.toExponential(1),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  const note = 'times are wall / GPU (timestamp queries); GB/s and % copy use GPU times when there are some';
  return [note, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const shapes = values.quick ? [[2, 64, 64] as Shape, [1, 33, 20] as Shape] : values.sizes.split(',').map(parseShape);
  const budgetMs = values.quick ? 20 : Number(values['budget-ms']);
  // Dawn rounds timestamps unless told otherwise; the GPU times below need them exact.
  const info = await activateWebGpu({ backend: values.backend as 'auto' | DawnBackend, dawnOptions: ['disable-dawn-features=timestamp_quantization'] });
  refuseSoftwareAdapter(info.report, values.backend, '--backend');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (values['submit-batch']) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(values['submit-batch']));
  console.log(`adapter: ${info.report.name} (${info.report.backend}, ${info.report.featureLevel}${info.software ? ', software' : ''})`);

  const floats = Math.max(...shapes.map(([b, t, d]) => b * t * d));
  const copy = await copyBandwidth(floats, values.quick ? 5 : 50);
  const copyGpu = copy.kernelCopyGpuGBs === undefined ? '' : `, on the GPU clock ${fmt(copy.kernelCopyGpuGBs, 4)} GB/s`;
  const variants = copy.kernelVariants.map((v) => `${v.perThread}: ${fmt(v.gpuGBs ?? v.wallGBs, 4)}`).join(', ');
  console.log(
    `copy bandwidth over ${fmt(copy.bytes / 2 ** 20, 4)} MiB (read + write): buffer copy ${fmt(copy.bufferCopyGBs, 4)} GB/s, copy kernel ${fmt(copy.kernelCopyGBs, 4)} GB/s${copyGpu}\n  copy kernel GB/s by vec4s per thread: ${variants}`,
  );

  const overhead = await dispatchOverheadUs(HSM_AB.name);
  console.log(`CPU cost per dispatch (enqueue, tiny tensors): fused kernel ${fmt(overhead.fusedUs)} us, tf.add ${fmt(overhead.tfAddUs)} us`);

  const results: OpResult[] = [];
  for (const shape of shapes) {
    results.push(await benchHsmAb(shape, layerShifts(shape), budgetMs));
    results.push(await benchFusionBlend(shape, layerShifts(shape), budgetMs));
  }
  // The fraction compares like with like: GPU-clock times against the copy kernel's GPU-clock bandwidth.
  const copyReference = copy.kernelCopyGpuGBs ?? copy.best;
  console.log(`\n${table(results, copyReference)}\n`);
  console.log(`hsm-ab backward launch: ${JSON.stringify(backwardTuning())}`);

  const sweep = values.sweep ? await sweepHsmAbBackward(shapes[0], layerShifts(shapes[0]), budgetMs / 2) : [];
  if (sweep.length) {
    console.log('hsm-ab backward launch sweep, fastest first:');
    for (const s of sweep.slice(0, 6))
      console.log(
        `  rows/thread ${s.rowsPerThread}, lanes ${s.lanes}, columns ${s.columnsPerWorkgroup}: ${fmt(s.backwardMs)} ms, ${fmt(s.backwardGBs, 4)} GB/s`,
      );
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    adapter: info.report,
    tuning: { ...backwardTuning() },
    copy,
    overhead,
    results,
    sweep,
  };
  writeJsonReport(values.out, report);
  console.log(`wrote ${values.out}`);
}

runGpuEntry(main);
