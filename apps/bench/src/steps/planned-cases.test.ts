import { readFileSync } from 'node:fs';
import { hasMixer, registerMixer, selectBackend, tf, type MixerSpec, type Tensor3D } from '@shiftmix/core';
import '@shiftmix/native';
import '@shiftmix/webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { TrainStepRunner, type TrainStepOptions } from './runner.js';

const text = readFileSync(new URL('../../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, 20_000);
const small = { text, dim: 16, heads: 2, contextLength: 8, dropout: 0.1, batch: 3, recipe: { warmup: 2 } };

// Plugin mixers in plain tfjs ops: one whose step is the same every time (a weighted mix of
// each position with the one before), and one that adds noise drawn on the host each step.
function plainMixer(name: string, noisy: boolean): MixerSpec<Record<string, never>> {
  return {
    specificationVersion: 1,
    name,
    description: `test mixer in plain tfjs${noisy ? ', with host noise' : ''}`,
    shiftBased: false,
    defaults: {},
    validate: () => ({}),
    paramCount: (ctx) => ctx.dim,
    create(ctx) {
      const w = tf.variable(tf.tidy(() => tf.add(0.5, ctx.init.normal([ctx.dim], 0.1))));
      const forward = (u: Tensor3D): Tensor3D =>
        tf.tidy(() => {
          const [b, t, d] = u.shape;
          const previous = tf.slice(
            tf.pad(u, [
              [0, 0],
              [1, 0],
              [0, 0],
            ]),
            [0, 0, 0],
            [b, t, d],
          );
          const mixed = tf.add(tf.mul(u, w), tf.mul(previous, tf.sub(1, w))) as Tensor3D;
          return noisy ? (tf.add(mixed, tf.randomNormal(mixed.shape, 0, 0.01)) as Tensor3D) : mixed;
        });
      return {
        weights: { w },
        forward,
        initState: () => ({ position: 0, tensors: {} }),
        step: () => {
          throw new Error('not used');
        },
        dispose: () => w.dispose(),
      };
    },
  };
}

function registerPlain(): void {
  if (!hasMixer('plain-mix')) registerMixer(plainMixer('plain-mix', false));
  if (!hasMixer('noisy-mix')) registerMixer(plainMixer('noisy-mix', true));
}

async function train(options: Omit<TrainStepOptions, 'text'>, steps: number, batches?: number[]) {
  const notes: string[] = [];
  const runner = new TrainStepRunner({ ...small, ...options, onNote: (m) => notes.push(m) });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await runner.step(batches?.[i % batches.length])).loss);
  const status = runner.planStatus;
  await runner.dispose();
  return { losses, notes, status };
}

afterAll(async () => {
  await selectBackend('cpu');
});

for (const backend of ['wasm', 'webgpu'] as const) {
  describe(`planned steps of other models on ${backend}`, () => {
    it('plan a plugin mixer written in plain tfjs, with the eager losses', async () => {
      expect((await selectBackend(backend)).backend).toBe(backend);
      registerPlain();
      const planned = await train({ layers: 'plain-mix,hsm-ab' }, 8);
      const eager = await train({ layers: 'plain-mix,hsm-ab', plan: false }, 8);
      expect(planned.notes).toEqual([]);
      expect(planned.status.planned).toHaveLength(1);
      expect(planned.losses).toEqual(eager.losses);
    });

    it('take the eager step for a mixer that draws on the host, naming its block once', async () => {
      registerPlain();
      const run = await train({ layers: 'hsm-ab,noisy-mix' }, 6);
      expect(run.status.planned).toEqual([]);
      expect(run.notes).toHaveLength(1);
      expect(run.notes[0]).toMatch(/eager training steps for .*block 2's mixer "noisy-mix"/);
      expect(run.losses.every(Number.isFinite)).toBe(true);
    });

    it('give each batch shape its own plan', async () => {
      const run = await train({ layers: 'hsm-ab*2' }, 12, [3, 2]);
      expect(run.notes).toEqual([]);
      expect(run.status.planned.sort()).toEqual([`${backend} x[2,8] y[2,8]`, `${backend} x[3,8] y[3,8]`]);
    });
  });
}

describe('a compiled step on webgpu', () => {
  it('creates no buffer, bind group, pipeline or shader after its first steps', async () => {
    expect((await selectBackend('webgpu')).backend).toBe('webgpu');
    const device = (tf.engine().backend as unknown as { device: GPUDevice }).device;
    const counted = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createShaderModule', 'createBindGroupLayout'] as const;
    const counts = new Map<string, number>(counted.map((n) => [n, 0]));
    const originals = counted.map((name) => {
      const original = device[name].bind(device) as (...args: unknown[]) => unknown;
      (device as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        counts.set(name, counts.get(name)! + 1);
        return original(...args);
      };
      return [name, original] as const;
    });
    try {
      const runner = new TrainStepRunner({ ...small, layers: 'softmax-attention,learned-fusion,hsm-ab' });
      for (let i = 0; i < 4; i++) await runner.step();
      const before = new Map(counts);
      for (let i = 0; i < 6; i++) await runner.step();
      expect(runner.planStatus.compiled).toHaveLength(1);
      for (const name of counted) expect(counts.get(name)! - before.get(name)!, name).toBe(0);
      // The counting hook sees creations: the first steps made pipelines and buffers.
      expect(before.get('createBuffer')).toBeGreaterThan(0);
      await runner.dispose();
    } finally {
      for (const [name, original] of originals) (device as unknown as Record<string, unknown>)[name] = original;
    }
  });
});
