// @shiftmix/webgpu/parity's checks (kernels.html runs the same list), run in Node on Dawn: on a
// GPU machine this is the check that the fused WGSL kernels compute what their references do on that driver.
//   node dist-gpu/kernel-parity.mjs [--dawn auto|vulkan|opengles] [--only NAME] [--json out.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tf } from '@shiftmix/core';
import { activateWebGpu, releaseWebGpu, type DawnBackend } from '@shiftmix/webgpu';
import { runChecks } from '@shiftmix/webgpu/parity';
import { registerLmCharMixers } from '../steps/runner.js';

const USAGE = `Every fused WGSL kernel against its reference, on this machine's WebGPU adapter (Dawn in Node).

  node dist-gpu/kernel-parity.mjs [--dawn auto|vulkan|opengles] [--only NAME] [--json report.json]

--only runs the checks whose name contains NAME; --json writes every comparison. Exit code 1
when a check fails.`;

function flags() {
  const options = {
    dawn: { type: 'string', default: 'auto' },
    only: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  } as const;
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const values = flags();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

async function main(): Promise<number> {
  const info = await activateWebGpu({ backend: values.dawn as 'auto' | DawnBackend });
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const { name, backend, featureLevel, software } = info.report;
  console.log(`adapter: ${name} (${backend}, ${featureLevel}${software ? ', software' : ''})`);
  const started = performance.now();
  registerLmCharMixers();
  const results = await runChecks(values.only ?? null, (done, check, ms) => {
    const bad = done.filter((r) => !r.ok);
    const worst = Math.max(...done.map((r) => r.maxRelDiff ?? Infinity));
    console.log(`${bad.length ? 'FAIL' : 'ok  '} ${check.name} (${done.length} compared, worst ${worst.toExponential(2)}, ${ms.toFixed(0)} ms)`);
    for (const r of bad) console.log(`     ${r.name}: ${r.maxRelDiff ?? 'none'} > ${r.tol} ${r.detail ?? ''}`);
  });
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} of ${results.length} comparisons passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ adapter: info.report, results }, null, 1)}\n`);
  return failed ? 1 : 0;
}

main()
  .then((code) => {
    releaseWebGpu();
    process.exit(code);
  })
  .catch((error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exit(2);
  });
