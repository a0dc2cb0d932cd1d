import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { register } from '@shiftmix/mixer-softmax-attention';
import { runSuite } from '../runner.js';
import { loadSuite } from '../suite/load.js';
import { resolveRecipe } from '../suite/validate.js';
import type { MqarRecipe } from '../suite/types.js';

const suitesDir = fileURLToPath(new URL('../../../../benchmarks/suites/', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'bench-mqar-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('trains the GPT model of the default suite on the quick MQAR preset well above chance', async () => {
  register();
  const suite = loadSuite('default', { suitesDirs: [suitesDir] });
  const recipe = resolveRecipe(suite.benchmarks.find((b) => b.task === 'mqar')!, 'quick') as MqarRecipe;
  const report = await runSuite({ suite, preset: 'quick', backend: 'wasm', only: ['mqar'], models: ['gpt'], outDir, quiet: true });
  const runs = report.benchmarks[0].runs;
  expect(runs.map((r) => r.setting.dim)).toEqual(recipe.dims);
  // Chance: guessing uniformly among the V/2 value tokens. Within the quick budget the
  // model learns to answer with a value of the context; binding each key to its own value
  // (accuracy towards 1) takes the standard preset's longer training.
  const chance = 2 / recipe.vocabSize;
  for (const run of runs) {
    expect(run.metrics.accuracy).toBeGreaterThan(5 * chance);
    expect(run.paramCount).toBeGreaterThan(0);
  }
});
