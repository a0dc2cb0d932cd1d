import { consoleProgress, runSuite } from '@shiftmix/bench';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { loadAllPlugins, warnOn } from '../plugins.js';
import { BACKEND_FLAG, WORKERS_FLAG } from './shared.js';

const commaList = (values: string[]): string[] => values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'Run a benchmark suite (lm-char, mqar, scaling, decode) and write tables and charts',
  usage: 'bench [--suite NAME|FILE] [--preset quick|standard] [flags]',
  details: [
    'A suite is a JSON file naming its benchmarks, their models (layer patterns) and recipes per',
    'preset. NAME is looked up in benchmarks/suites of the current folder or one above it, then among',
    'the suites @shiftmix/bench ships ("default", with Tiny Shakespeare as its lm-char data).',
    'Each finished run is kept as JSON under --out: after an interruption the same command resumes.',
    'Progress goes to stderr; the Markdown tables (or --json) to stdout.',
  ].join('\n'),
  flags: {
    suite: { type: 'string', default: 'default', placeholder: 'NAME|FILE', description: 'Suite name or suite file' },
    preset: { type: 'string', default: 'quick', placeholder: 'NAME', description: 'Recipe preset of the default suite: smoke (seconds: does it run?), quick (CPU, minutes), standard (GPU)' },
    only: { type: 'list', placeholder: 'BENCH,...', description: 'Run only these benchmarks or tasks; repeatable' },
    models: { type: 'list', placeholder: 'NAME,...', description: "Run only these models of the suite; repeatable" },
    out: {
      type: 'string',
      placeholder: 'DIR',
      description: 'Results folder (default: ./bench-results/BACKEND/SUITE-PRESET, or benchmarks/results/... in a shiftmix checkout)',
    },
    force: { type: 'boolean', description: 'Redo runs that already finished' },
    json: { type: 'boolean', description: 'Print the summary as JSON instead of the tables' },
    ...BACKEND_FLAG,
    ...WORKERS_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix bench --preset quick',
    'shiftmix bench --only lm-char --models gpt,hsm-ab --backend webgpu --preset standard',
    'shiftmix bench --suite ./my-suite.json --plugin ./my-mixer.js',
  ],
  async run(flags, { io }) {
    await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
    const report = await runSuite({
      suite: flags.suite,
      preset: flags.preset,
      backend: flags.backend,
      only: commaList(flags.only),
      models: commaList(flags.models),
      outDir: flags.out,
      cwd: io.cwd,
      json: flags.json,
      force: flags.force,
      workers: flags.workers,
      onProgress: consoleProgress(),
    });
    return report.failed.length ? 1 : 0;
  },
});
