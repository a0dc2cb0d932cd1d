import { describe, expect, it } from 'vitest';
import { describeRecipe, providerReason, type BundledModel } from './labels.js';

const hsm: BundledModel = {
  id: 'hsm',
  label: 'HSM: hsm-ab*4 · val loss 1.862',
  path: 'hsm/',
  layers: 'hsm-ab*4',
  params: 801664,
  recipe: {
    source: "nanoGPT's CPU recipe (lm-char's cpu preset)",
    dim: 128,
    heads: 4,
    contextLength: 64,
    dropout: 0,
    steps: 2000,
    batch: 12,
    lr: 0.001,
    minLr: 0.0001,
  },
  valLoss: 1.86234,
  exportedValLoss: 1.86234,
  exportedStep: 2000,
};

describe('describeRecipe', () => {
  it('names the recipe, the shape and the validation loss', () => {
    expect(describeRecipe(hsm)).toBe(
      "Trained with nanoGPT's CPU recipe (lm-char's cpu preset): 0.80M parameters, D 128, 4 heads, context 64; 2000 steps of batch 12, lr 0.001 to 0.0001, dropout 0; validation loss 1.862.",
    );
  });

  it('adds the exported checkpoint when it is not the last one', () => {
    expect(describeRecipe({ ...hsm, exportedStep: 1750, exportedValLoss: 1.8591 })).toMatch(/validation loss 1\.862 \(exported: step 1750, 1\.859\)\.$/);
  });

  it('says nothing of a model without a recorded recipe', () => {
    expect(describeRecipe({ id: 'old', label: 'old', path: 'old/' })).toBe('');
  });
});

describe('providerReason', () => {
  const base = { fallbackReason: null, adapterSoftware: false } as const;
  it('says why auto chose what it chose', () => {
    const software = 'the only WebGPU adapter is a software one (google swiftshader), slower than wasm here';
    expect(providerReason({ provider: 'wasm', choice: 'auto', fallbackReason: software, adapterSoftware: true })).toBe(`auto chose wasm (CPU): ${software}.`);
    expect(providerReason({ ...base, provider: 'webgpu', choice: 'auto' })).toMatch(/^auto chose WebGPU/);
  });

  it('says when the choice was the user’s, and warns of a software adapter', () => {
    expect(providerReason({ ...base, provider: 'wasm', choice: 'wasm' })).toBe('wasm (CPU), as chosen.');
    expect(providerReason({ ...base, provider: 'webgpu', choice: 'webgpu' })).toBe('WebGPU, as chosen.');
    expect(providerReason({ ...base, provider: 'webgpu', choice: 'webgpu', adapterSoftware: true })).toMatch(/software adapter: wasm is likely faster/);
  });
});
