import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_CONFIG, DEFAULT_RECIPE, isShiftmixError, parseLayerPattern } from '@shiftmix/core';
import { loadSuite, readSuiteFile } from './load.js';
import { lmCharTask } from '../tasks/lm-char.js';
import { resolveRecipe, validateSuite } from './validate.js';

const suitesDir = fileURLToPath(new URL('../../../../benchmarks/suites/', import.meta.url));

function suite(overrides: Record<string, unknown> = {}, benchmark: Record<string, unknown> = {}) {
  return {
    name: 'test',
    seed: 1,
    benchmarks: [{ name: 'lm', task: 'lm-char', models: { gpt: { layers: 'softmax-attention*2' } }, presets: { quick: { steps: 10 } }, ...benchmark }],
    ...overrides,
  };
}

function errorOf(fn: () => unknown): { message: string; code: string } {
  try {
    fn();
  } catch (error) {
    if (isShiftmixError(error)) return { message: error.message, code: error.code };
    throw error;
  }
  throw new Error('expected an error');
}

describe('validateSuite', () => {
  it('accepts a minimal suite and fills recipes from the task defaults', () => {
    const s = validateSuite(suite());
    const r = resolveRecipe(s.benchmarks[0], 'quick');
    expect(r).toEqual({ ...lmCharTask.recipe.defaults, steps: 10 });
  });

  it('names an unknown task and lists the known ones', () => {
    const e = errorOf(() => validateSuite(suite({}, { task: 'lm-word' }), 'my.json'));
    expect(e.code).toBe('E_SUITE');
    expect(e.message).toContain('my.json');
    expect(e.message).toContain('unknown task "lm-word"');
    expect(e.message).toContain('lm-char, lm-bpe, mqar, scaling, decode');
  });

  it('names unknown fields at every level', () => {
    expect(errorOf(() => validateSuite(suite({ sed: 3 }))).message).toMatch(/top level: unknown field "sed"/);
    expect(errorOf(() => validateSuite(suite({}, { model: {} }))).message).toMatch(/unknown field "model"/);
    expect(errorOf(() => validateSuite(suite({}, { models: { gpt: { layers: 'x', ffn_width: 3 } } }))).message).toMatch(
      /models\.gpt: unknown field "ffn_width"/,
    );
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { step: 10 } } }))).message).toMatch(/presets\.quick: unknown field "step"/);
  });

  it('uses the field names of train() and the model config, and names the old ones with the new', () => {
    const library = new Set([...Object.keys(DEFAULT_RECIPE), ...Object.keys(DEFAULT_MODEL_CONFIG)]);
    expect(Object.keys(lmCharTask.recipe.fields).filter((field) => !library.has(field))).toEqual([]);
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { batchSize: 8 } } }))).message).toMatch(
      /presets\.quick: field "batchSize" is now called "batch", as in the recipe of train\(\)\. Rename "batchSize" to "batch"/,
    );
    const mqar = { task: 'mqar', name: 'mq', presets: { quick: { warmupSteps: 3 } } };
    expect(errorOf(() => validateSuite(suite({}, mqar))).message).toMatch(/field "warmupSteps" is now called "warmup"/);
  });

  it('checks recipe values and cross-field rules', () => {
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { steps: 1.5 } } }))).message).toMatch(/steps: 1\.5 is not a positive integer/);
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { dropout: 1 } } }))).message).toMatch(/dropout/);
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { lr: 1e-4, minLr: 1e-3 } } }))).message).toMatch(/minLr/);
    const mqar = { task: 'mqar', name: 'mq', presets: { quick: { vocabSize: 64, settings: [{ seqLen: 16, pairs: 8 }] } } };
    expect(errorOf(() => validateSuite(suite({}, mqar))).message).toMatch(/8 pairs need seqLen >= 32/);
  });

  it('rejects unknown metrics, a scaling pattern of several layers, data for tasks without data', () => {
    expect(errorOf(() => validateSuite(suite({}, { metrics: ['perplexity'] }))).message).toMatch(/unknown metric "perplexity" for task lm-char/);
    const scaling = { task: 'scaling', models: { s: { layers: 'hsm-ab*2' } }, presets: { quick: {} } };
    expect(errorOf(() => validateSuite(suite({}, scaling))).message).toMatch(/scaling times one mixer layer/);
    const windowed = { ...scaling, models: { s: { layers: 'softmax-attention(window=64)' } } };
    expect(validateSuite(suite({}, windowed)).benchmarks[0].models.s.layers).toBe('softmax-attention(window=64)');
    expect(errorOf(() => validateSuite(suite({}, { ...scaling, models: { s: { layers: 'hsm-ab(x=1)*2' } } }))).message).toMatch(
      /scaling times one mixer layer/,
    );
    expect(errorOf(() => validateSuite(suite({}, { task: 'decode', data: 'x.txt', presets: { quick: {} } }))).message).toMatch(
      /task decode takes no data file/,
    );
  });

  it('lets a preset replace the layer patterns of named models, and only of models that exist', () => {
    const layers = { gpt: 'softmax-attention*4' };
    const s = validateSuite(suite({}, { presets: { quick: { steps: 10 }, small: { steps: 10, layers } } }));
    expect(resolveRecipe(s.benchmarks[0], 'small')).toMatchObject({ layers });
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { layers: { bert: 'softmax-attention' } } } }))).message).toMatch(
      /presets\.quick\.layers: no model "bert"/,
    );
    expect(errorOf(() => validateSuite(suite({}, { presets: { quick: { layers: { gpt: '' } } } }))).message).toMatch(
      /an object of layer patterns by model name/,
    );
  });

  it('reports a missing preset with the ones that exist', () => {
    const s = validateSuite(suite());
    const e = errorOf(() => resolveRecipe(s.benchmarks[0], 'standard'));
    expect(e.code).toBe('E_PRESET');
    expect(e.message).toContain('has no preset "standard"');
    expect(e.message).toContain('Its presets: quick');
  });

  it('reports bad JSON and unknown suite names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suite-'));
    writeFileSync(join(dir, 'broken.json'), '{ "name": ');
    expect(errorOf(() => readSuiteFile(join(dir, 'broken.json'))).message).toMatch(/not valid JSON/);
    expect(errorOf(() => loadSuite('nope', { cwd: dir, suitesDirs: [dir] })).message).toMatch(/no suite named "nope"/);
  });
});

describe('shipped suites', () => {
  const files = readdirSync(suitesDir).filter((f) => f.endsWith('.json'));

  it('exist and are valid', () => {
    expect(files).toContain('default.json');
    for (const f of files) expect(() => readSuiteFile(join(suitesDir, f))).not.toThrow();
  });

  it('give the default suite the nanoGPT shakespeare-char recipe under standard', () => {
    const s = loadSuite('default', { suitesDirs: [suitesDir] });
    const lm = s.benchmarks.find((b) => b.task === 'lm-char')!;
    expect(resolveRecipe(lm, 'standard')).toMatchObject({
      dim: 384,
      heads: 6,
      contextLength: 256,
      batch: 64,
      dropout: 0.2,
      lr: 1e-3,
      minLr: 1e-4,
      warmup: 100,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      clip: 1,
      evalBatches: 100,
    });
    expect(Object.values(lm.models).map((m) => m.layers)).toContain('hsm-ab,softmax-attention,hsm-ab,hsm-ab,softmax-attention,hsm-ab');
  });

  it("give the default suite nanoGPT's CPU recipe under cpu, every model at four layers", () => {
    const s = loadSuite('default', { suitesDirs: [suitesDir] });
    const lm = s.benchmarks.find((b) => b.task === 'lm-char')!;
    const r = resolveRecipe(lm, 'cpu') as { layers: Record<string, string> };
    expect(r).toMatchObject({ dim: 128, heads: 4, contextLength: 64, batch: 12, dropout: 0, steps: 2000, lr: 1e-3, minLr: 1e-4, warmup: 100, clip: 1 });
    expect(Object.keys(r.layers).sort()).toEqual(Object.keys(lm.models).sort());
    for (const pattern of Object.values(r.layers)) expect(parseLayerPattern(pattern, { checkRegistry: false })).toHaveLength(4);
  });
});
