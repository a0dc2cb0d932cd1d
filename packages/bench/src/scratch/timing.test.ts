import { it } from 'vitest';
import { selectBackend, ShiftmixModel, train, TextDataset, CharTokenizer, loadTextFile, tf } from '@shiftmix/core';
import { register } from '@shiftmix/mixer-softmax-attention';

it('timing', async () => {
  const backend = process.env.BK ?? 'wasm';
  await selectBackend(backend as 'wasm');
  register();
  const text = await loadTextFile('../../benchmarks/data/tinyshakespeare.txt');
  const tok = CharTokenizer.fromText(text);
  const ds = new TextDataset(tok.encode(text));
  for (const [dim, ctx, batch] of [[48, 64, 16], [64, 64, 16], [32, 64, 16]]) {
    const model = ShiftmixModel.create({ vocabSize: tok.vocabSize, dim, heads: dim / 16, contextLength: ctx, layers: 'softmax-attention*6', dropout: 0, seed: 1 });
    const t0 = performance.now();
    const s = await train({ model, data: ds, recipe: { steps: 30, batch, evalEvery: 30, evalBatches: 2, warmup: 5 } });
    console.log(backend, dim, ctx, batch, 'params', s.params, 'ms/step', ((performance.now() - t0) / 30).toFixed(1), 'val', s.valLoss.toFixed(3));
    model.dispose();
  }
  console.log(tf.memory().numTensors);
});
