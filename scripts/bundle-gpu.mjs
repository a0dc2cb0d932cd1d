// Bundles the GPU benchmarks and the kernel parity checks into one folder that runs with Node alone: a GPU machine then
// needs neither npm nor network access, only Node 20+ and the GPU's Vulkan driver.
//
//   npm run build && node scripts/bundle-gpu.mjs [--out dist-gpu]
//   # on the GPU machine, from the folder's parent:
//   node dist-gpu/train-step.mjs --data dist-gpu/tinyshakespeare.txt --json steps.json
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: 'dist-gpu' }, platform: { type: 'string', default: `${process.platform}-${process.arch}` } },
});
const out = resolve(root, values.out);

// Output name -> source: the GPU benchmarks, and the kernels' parity checks (kernels.html's, run on Dawn).
const ENTRIES = {
  'train-step': 'apps/bench/src/gpu/train-step.ts',
  'attention-matmul-main': 'apps/bench/src/gpu/attention-matmul-main.ts',
  main: 'apps/bench/src/gpu/main.ts',
  'targets-main': 'apps/bench/src/gpu/targets-main.ts',
  'kernel-parity': 'apps/bench/src/gpu/kernel-parity.ts',
};
for (const source of Object.values(ENTRIES)) {
  if (!existsSync(join(root, source))) throw new Error(`${source} is missing; this script and the GPU benchmarks disagree`);
}
const dawn = join(root, 'node_modules/webgpu');
const addon = join(dawn, 'dist', values.platform, 'dawn.node');
if (!existsSync(addon)) {
  throw new Error(`no Dawn build for ${values.platform} at ${addon}; pass --platform linux-x64 (or another folder of node_modules/webgpu/dist)`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, join(root, source)])),
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // The four entries share tfjs and the library through common chunks.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dawn is a native addon, copied next to the bundle; the other backends are not for GPUs.
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'],
  // tfjs's CommonJS parts call require(); an ES module bundle has none of its own.
  banner: { js: "import { createRequire as shiftmixCreateRequire } from 'node:module'; const require = shiftmixCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

const dawnOut = join(out, 'node_modules/webgpu');
mkdirSync(join(dawnOut, 'dist', values.platform), { recursive: true });
for (const file of ['package.json', 'index.js', 'LICENSE.md']) cpSync(join(dawn, file), join(dawnOut, file));
cpSync(addon, join(dawnOut, 'dist', values.platform, 'dawn.node'));
cpSync(join(root, 'benchmarks/data/tinyshakespeare.txt'), join(out, 'tinyshakespeare.txt'));
writeFileSync(
  join(out, 'README.txt'),
  [
    'The shiftmix GPU benchmarks, bundled: Node 20+ and a Vulkan driver are all they need.',
    '',
    '  node train-step.mjs --data tinyshakespeare.txt --tune --json steps.json          whole lm-char training steps',
    '  node attention-matmul-main.mjs --tune --out kernels.json                        matmul and attention kernels',
    '  node main.mjs                                                                     the fused HSM kernels',
    '  node targets-main.mjs kernels.json steps.json                                     the throughput targets',
    '  node kernel-parity.mjs                                                            every fused kernel against its reference',
    '',
    'Each takes --help.',
    '',
  ].join('\n'),
);
console.log(`bundled ${Object.keys(ENTRIES).length} GPU programs for ${values.platform} into ${out}`);
