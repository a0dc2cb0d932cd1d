import { it } from 'vitest';
import { selectBackend, ShiftmixModel, tf, AdamW } from '@shiftmix/core';
import { register } from '@shiftmix/mixer-softmax-attention';

it('prof', async () => {
  await selectBackend((process.env.BK ?? 'cpu') as 'cpu');
  register();
  const V = 32, T = 16, D = 32, B = 32;
  const model = ShiftmixModel.create({ vocabSize: V, dim: D, heads: 2, contextLength: T, layers: 'softmax-attention*2', dropout: 0, seed: 1 });
  const x = tf.randomUniform([B, T], 0, V, 'int32') as tf.Tensor2D;
  const y = tf.randomUniform([B, T], 0, V, 'int32') as tf.Tensor2D;
  const vars = [...model.weights().values()];
  const opt = new AdamW(model.weights(), { weightDecay: 0.1 });
  for (let i = 0; i < 6; i++) {
    let t0 = performance.now();
    const l = tf.tidy(() => model.loss(x, y, { training: false }));
    await l.data(); l.dispose();
    const tf1 = performance.now() - t0;
    t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: true }), vars);
    await value.data();
    const tb = performance.now() - t0;
    t0 = performance.now();
    const gm = new Map<string, tf.Tensor>();
    const names = new Map([...model.weights()].map(([n, v]) => [v.name, n]));
    for (const [k, g] of Object.entries(grads)) gm.set(names.get(k)!, g);
    opt.apply(gm, 1e-3, 1);
    await vars[0].data();
    const to = performance.now() - t0;
    tf.dispose([value, ...Object.values(grads)]);
    console.log(`fwd ${tf1.toFixed(1)} fwdbwd ${tb.toFixed(1)} opt ${to.toFixed(1)}`);
  }
  const p = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => model.loss(x, y, { training: true }), vars); tf.dispose([value, ...Object.values(grads)]); });
  const agg = new Map<string, number>();
  for (const k of p.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log(p.kernels.length, [...agg].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, t]) => `${n}:${t.toFixed(1)}`).join(' '));
});
