import { it } from 'vitest';
import { selectBackend, ShiftmixModel, train } from '@shiftmix/core';
import { register } from '@shiftmix/mixer-softmax-attention';
import { generateMqar } from '../tasks/mqar-data.js';
import { MqarDataset, mqarAccuracy } from '../tasks/mqar-dataset.js';

it('mqar learn', async () => {
  await selectBackend((process.env.BK ?? 'cpu') as 'cpu');
  register();
  const V = Number(process.env.V ?? 32), T = Number(process.env.T ?? 16), P = Number(process.env.P ?? 2);
  const D = Number(process.env.D ?? 32), steps = Number(process.env.S ?? 300), lr = Number(process.env.LR ?? 3e-3);
  const trainSet = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: Number(process.env.N ?? 4000), powerA: 0.01, seed: 1 });
  const test = generateMqar({ vocabSize: V, seqLen: T, pairs: P, count: 256, powerA: 0.01, seed: 2 });
  const model = ShiftmixModel.create({ vocabSize: V, dim: D, heads: Number(process.env.H ?? 2), contextLength: T, layers: 'softmax-attention*2', dropout: 0, ...(process.env.ROPE ? { positional: 'none', mixers: { 'softmax-attention': { rope: true } } } : {}), seed: 1 });
  const t0 = performance.now();
  const s = await train({ model, data: new MqarDataset(trainSet, test), recipe: { steps, batch: Number(process.env.B ?? 32), lr, minLr: lr / 10, warmup: 20, evalEvery: 50, evalBatches: 2, weightDecay: 0.1 },
    onProgress: (e) => { if (e.valLoss !== undefined) console.log(e.step, e.trainLoss.toFixed(3), e.valLoss.toFixed(3)); } });
  const acc = await mqarAccuracy(model, test, 64);
  console.log('acc', acc, 'ms/step', ((performance.now() - t0) / steps).toFixed(1), s.params);
});
