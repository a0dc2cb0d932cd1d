import { readFileSync } from 'node:fs';
import { selectBackend } from '@shiftmix/core';
import '@shiftmix/native';
import '@shiftmix/webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { CPU_MODELS } from '../cpu/recipe.js';
import { TrainStepRunner } from './runner.js';

const text = readFileSync(new URL('../../../../benchmarks/data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, 20_000);
const STEPS = 20;

async function run(layers: string, dropout: number, plan: boolean) {
  const notes: string[] = [];
  const runner = new TrainStepRunner({
    layers,
    text,
    dim: 16,
    heads: 2,
    contextLength: 8,
    dropout,
    batch: 3,
    recipe: { warmup: 2 },
    plan,
    onNote: (m) => notes.push(m),
  });
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) losses.push((await runner.step()).loss);
  const weights = new Map<string, Float32Array>();
  for (const [name, w] of runner.model.weights()) weights.set(name, (await w.data()) as Float32Array);
  const status = runner.planStatus;
  await runner.dispose();
  return { losses, weights, status, notes };
}

afterAll(async () => {
  await selectBackend('cpu');
});

// No adapter is a failure, not a skip: CI installs Mesa so that the fused kernels really run.
for (const backend of ['wasm', 'webgpu'] as const) {
  describe(`planned training steps on ${backend}`, () => {
    for (const [model, { layers }] of Object.entries(CPU_MODELS)) {
      for (const dropout of [0, 0.2]) {
        it(`${model}, dropout ${dropout}: the eager step's losses and weights`, async () => {
          expect((await selectBackend(backend)).backend).toBe(backend);
          const eager = await run(layers, dropout, false);
          const planned = await run(layers, dropout, true);
          expect(planned.notes).toEqual([]);
          expect(planned.status.planned).toHaveLength(1);
          // On WebGPU the plan is compiled: its recorded dispatches are encoded again each step.
          expect(planned.status.compiled).toHaveLength(backend === 'webgpu' ? 1 : 0);
          // A plan runs the eager step's kernels on the same data: the same numbers, bit for bit.
          expect(planned.losses).toEqual(eager.losses);
          for (const [name, want] of eager.weights) expect(Array.from(planned.weights.get(name)!), name).toEqual(Array.from(want));
        });
      }
    }
  });
}
