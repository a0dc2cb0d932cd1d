import { parseArgs } from 'node:util';
import { BACKEND_NAMES, ShiftmixError, type BackendName } from '@shiftmix/core';

export const USAGE = `Usage: node apps/bench/dist/main.js [options]

Runs a benchmark suite and writes one JSON file per run, a Markdown report and SVG
charts under benchmarks/results/BACKEND/SUITE-PRESET/. Finished runs are kept: run the
same command again after an interruption and it resumes.

Options:
  --suite NAME|PATH   suite name in benchmarks/suites, or a suite file (default: default)
  --preset NAME       recipe preset: quick (CPU, minutes) or standard (GPU) (default: quick)
  --backend NAME      ${BACKEND_NAMES.join(' | ')} (default: auto)
  --only LIST         run only these benchmarks or tasks (comma-separated, repeatable)
  --models LIST       run only these models (comma-separated, repeatable)
  --plugin MODULE     load a mixer plugin first (file path or package; repeatable)
  --out DIR           write this run's results to DIR
  --results DIR       root of all results (default: benchmarks/results)
  --force             redo runs that already finished
  --json              print the summary as JSON instead of the tables
  --quiet             print nothing but errors
  -h, --help          show this help`;

export interface BenchArgs {
  suite: string;
  preset: string;
  backend: BackendName;
  only: string[];
  models: string[];
  plugins: string[];
  out?: string;
  results?: string;
  force: boolean;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

const list = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

/** Parses the command line; bad flags are ShiftmixErrors that say what to type instead. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        suite: { type: 'string', default: 'default' },
        preset: { type: 'string', default: 'quick' },
        backend: { type: 'string', default: 'auto' },
        only: { type: 'string', multiple: true },
        models: { type: 'string', multiple: true },
        plugin: { type: 'string', multiple: true },
        out: { type: 'string' },
        results: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new ShiftmixError((error as Error).message, 'Run with --help for the options', 'E_USAGE');
  }
  const v = parsed.values;
  if (!BACKEND_NAMES.includes(v.backend as BackendName)) {
    throw new ShiftmixError(`unknown backend "${v.backend}"`, `Use one of ${BACKEND_NAMES.join(', ')}`, 'E_USAGE');
  }
  return {
    suite: v.suite!,
    preset: v.preset!,
    backend: v.backend as BackendName,
    only: list(v.only),
    models: list(v.models),
    plugins: v.plugin ?? [],
    out: v.out,
    results: v.results,
    force: v.force!,
    json: v.json!,
    quiet: v.quiet!,
    help: v.help!,
  };
}
