// Bundles the GPU benchmarks into one folder that runs with Node alone: a GPU machine then
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
const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist-gpu' }, platform: { type: 'string', default: `${process.platform}-${process.arch}` } } });
const out = resolve(root, values.out);

const ENTRIES = ['train-step', 'attention-matmul-main', 'main', 'targets-main'];
for (const name of ENTRIES) {
  if (!existsSync(join(root, 'apps/bench/src/gpu', `${name}.ts`))) {
    throw new Error(`apps/bench/src/gpu/${name}.ts is missing; this script and the GPU benchmarks disagree`);
  }
}
const dawn = join(root, 'node_modules/webgpu');
const addon = join(dawn, 'dist', values.platform, 'dawn.node');
if (!existsSync(addon)) {
  throw new Error(`no Dawn build for ${values.platform} at ${addon}; pass --platform linux-x64 (or another folder of node_modules/webgpu/dist)`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: Object.fromEntries(ENTRIES.map((name) => [name, join(root, 'apps/bench/src/gpu', `${name}.ts`)])),
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
    '  node train-step.mjs --data tinyshakespeare.txt --json steps.json   whole lm-char training steps',
    '  node attention-matmul-main.mjs --out kernels.json                   matmul and attention kernels',
    '  node main.mjs                                                       the fused HSM kernels',
    '  node targets-main.mjs kernels.json steps.json                       the throughput targets',
    '',
    'Each takes --help.',
    '',
  ].join('\n'),
);
console.log(`bundled ${ENTRIES.length} GPU benchmarks for ${values.platform} into ${out}`);
