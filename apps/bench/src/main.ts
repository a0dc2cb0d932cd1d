#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { consoleProgress, runSuite } from '@shiftmix/bench';
import { isShiftmixError } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerLearnedFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerSoftmaxAttention } from '@shiftmix/mixer-softmax-attention';
import { USAGE, parseBenchArgs } from './args.js';

// This app lives in the repository: its suites and results folders are found from here
// as well as from the working directory.
const repoSuites = fileURLToPath(new URL('../../../benchmarks/suites/', import.meta.url));
const repoResults = fileURLToPath(new URL('../../../benchmarks/results/', import.meta.url));

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  registerHsmAb();
  registerLearnedFusion();
  registerSoftmaxAttention();
  // Ctrl-C ends the process at once (training keeps the event loop busy, so a handler
  // would only run after the current run); every finished run is already on disk and the
  // same command resumes after it.
  const report = await runSuite({
    suite: args.suite,
    preset: args.preset,
    backend: args.backend,
    only: args.only,
    models: args.models,
    plugins: args.plugins,
    outDir: args.out,
    resultsRoot: args.results ?? repoResults,
    suitesDirs: [repoSuites],
    json: args.json,
    quiet: args.quiet,
    force: args.force,
    onProgress: args.quiet ? () => {} : consoleProgress(),
  });
  return report.failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (isShiftmixError(error)) {
      process.stderr.write(`error: ${error.problem}\n  ${error.fix}\n`);
      process.exit(2);
    }
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
