import { causalAttention, tf, type Tensor } from '@shiftmix/core';
import {
  activateWebGpu,
  chooseAttentionTiles,
  chooseTile,
  formatProfile,
  preferredTiles,
  profileStep,
  tuneAttentionTiles,
  tuneMatMulTiles,
  webGpuDevice,
  type DawnBackend,
} from '@shiftmix/webgpu';
import { attentionParity, benchAttention, printAttentionTuning, type AttentionShape } from './attention-bench.js';
import { MODEL_CASES, benchMatMul, printMatMulTuning, squareCases, tileLabel } from './matmul-bench.js';
import { parseEntryFlags, refuseSoftwareAdapter, runGpuEntry, writeJsonReport } from './entry.js';

const USAGE = `GPU benchmark of the shiftmix matmul and flash-attention kernels on WebGPU (Dawn in Node).

  node apps/bench/dist/gpu/attention-matmul-main.js [--only matmul|attention] [--sizes 1024,2048,4096]
      [--lengths 256,512,1024,2048,4096] [--shape 4x6x64 (B x H x hd)] [--budget-ms 200] [--sweep] [--tune]
      [--model] [--profile] [--quick] [--backend auto|vulkan|opengles] [--dawn opt,opt] [--disable-robustness] [--out file.json]

matmul: TFLOP/s of square fp32 products (and with --model the products of an lm-char step), shiftmix
kernel vs tfjs-backend-webgpu's in the same run; --sweep times every candidate tile at the smallest and largest size.
--tune runs tuneMatMulTiles at the largest size and tuneAttentionTiles at T 2048 (or the longest T) first, so the
shiftmix rows use the tiles and blocks measured fastest on this adapter.
attention: fused forward, fused forward+backward and composite forward+backward time per T, with a
fused-vs-composite parity check on the GPU first. --profile prints profileStep of an attention step at the
shortest and longest T. --disable-robustness drops Dawn's bounds clamps (both paths alike).`;

const values = parseEntryFlags(
  {
    only: { type: 'string', default: '' },
    sizes: { type: 'string', default: '1024,2048,4096' },
    lengths: { type: 'string', default: '256,512,1024,2048,4096' },
    shape: { type: 'string', default: '4x6x64' },
    'budget-ms': { type: 'string', default: '200' },
    sweep: { type: 'boolean', default: false },
    tune: { type: 'boolean', default: false },
    model: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    dawn: { type: 'string', default: '' },
    'disable-robustness': { type: 'boolean', default: false },
    out: { type: 'string', default: 'gpu-kernels.json' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);

const numbers = (text: string) => text.split(',').filter(Boolean).map(Number);

function attentionShape(text: string): AttentionShape {
  const [batch, heads, headDim] = text.split('x').map(Number);
  if (![batch, heads, headDim].every((x) => Number.isInteger(x) && x > 0)) throw new Error(`bad --shape "${text}", expected B x H x hd such as 4x6x64`);
  return { batch, heads, headDim };
}

async function profileAttention(shape: AttentionShape, length: number): Promise<string> {
  const dims = [shape.batch, shape.heads, length, shape.headDim];
  const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal(dims, 0, 1, 'float32', seed));
  const grads = tf.grads((a: Tensor, b: Tensor, c: Tensor) => tf.sum(causalAttention(a, b, c, { training: true })));
  const profile = await profileStep(() => grads([q, k, v]));
  tf.dispose([q, k, v]);
  return formatProfile(profile, 10);
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quick = values.quick;
  const budgetMs = quick ? 20 : Number(values['budget-ms']);
  const dawnOptions = values.dawn ? values.dawn.split(',') : [];
  const robustness = !values['disable-robustness'];
  const info = await activateWebGpu({ backend: values.backend as 'auto' | DawnBackend, dawnOptions, robustness });
  refuseSoftwareAdapter(info.report, values.backend, '--backend');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const limits = webGpuDevice()!.limits;
  console.log(
    `adapter: ${info.report.name} (${info.report.backend}, ${info.report.featureLevel}${info.software ? ', software' : ''}${robustness ? '' : ', robustness off'})`,
  );
  console.log(`features: ${info.report.features.join(' ')}`);
  console.log(`limits: workgroup storage ${limits.maxComputeWorkgroupStorageSize} B, invocations ${limits.maxComputeInvocationsPerWorkgroup}`);
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, adapter: info.report, dawnOptions, robustness };

  if (values.only !== 'attention') {
    const sizes = quick ? [128, 256] : numbers(values.sizes);
    const largest = Math.max(...sizes);
    if (values.tune) {
      const tuning = await tuneMatMulTiles({ size: largest });
      printMatMulTuning(tuning);
      report.matmulTuning = tuning;
    }
    const tile = chooseTile(
      { batch: 1, m: largest, n: largest, k: largest, transposeA: false, transposeB: false, broadcastA: false, broadcastB: false, outer: [] },
      limits,
      preferredTiles(webGpuDevice()!),
    );
    console.log(`\nmatmul (fp32), tile at ${largest}: ${tile ? tileLabel(tile) : 'none'}`);
    const cases = [...squareCases(sizes), ...(values.model ? MODEL_CASES : [])];
    report.matmul = await benchMatMul(cases, budgetMs, values.sweep ? squareCases([Math.min(...sizes), largest]) : []);
  }

  if (values.only !== 'matmul') {
    const shape = quick ? { batch: 1, heads: 2, headDim: 16 } : attentionShape(values.shape);
    const lengths = quick ? [64, 128] : numbers(values.lengths);
    if (values.tune) {
      const length = lengths.includes(2048) ? 2048 : lengths[lengths.length - 1];
      const tuning = await tuneAttentionTiles({ headDim: shape.headDim, length, heads: shape.batch * shape.heads });
      printAttentionTuning(tuning);
      report.attentionTuning = tuning;
    }
    console.log(
      `\nattention B ${shape.batch} H ${shape.heads} hd ${shape.headDim}, tiles ${JSON.stringify(chooseAttentionTiles(shape.headDim, limits, webGpuDevice()))}`,
    );
    const parity = await attentionParity(shape, lengths[0]);
    console.log(
      `  parity at T ${parity.length}: O ${parity.output.toExponential(2)}, gradients ${parity.gradients.toExponential(2)} (max relative difference)`,
    );
    report.attentionParity = parity;
    report.attention = await benchAttention(shape, lengths, budgetMs);
    if (values.profile) {
      for (const length of new Set([lengths[0], lengths[lengths.length - 1]])) {
        console.log(`\nprofileStep: attention forward + backward at T ${length}`);
        console.log(await profileAttention(shape, length));
      }
    }
  }

  writeJsonReport(values.out, report);
  console.log(`wrote ${values.out}`);
}

runGpuEntry(main);
