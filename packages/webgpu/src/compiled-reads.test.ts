import { checkpointFiles, decodeSafetensors, registerMixer, ShiftmixModel, TextDataset, train, type TrainSummary } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import { describe, expect, it } from 'vitest';
import { abTestMixer } from './test-mixers.js';

// A compiled step writes the weights and AdamW's moments in place, outside tfjs. tfjs keeps
// a host copy of a tensor once it has been read (as a checkpoint at an evaluation reads the
// weights), and would give that copy again at the next read: every later checkpoint of the
// run would hold the weights of the first one.

registerMixer(abTestMixer('webgpu-reads-ab'));

const VOCAB = 9;
const ids = Int32Array.from({ length: 3000 }, (_, i) => (i * 5 + ((i * i) % 7)) % VOCAB);
const data = new TextDataset(ids);
const recipe = { steps: 7, batch: 3, evalEvery: 2, evalBatches: 1, warmup: 2, lr: 2e-2, minLr: 1e-3, seed: 4 };

/** Trains, keeping each `last` checkpoint's weights and moments as train's onCheckpoint gives them. */
async function run(plan: boolean) {
  const model = ShiftmixModel.create({ vocabSize: VOCAB, dim: 12, heads: 2, contextLength: 8, layers: 'webgpu-reads-ab*2', seed: 3 });
  const saved: { step: number; weights: Record<string, number[]>; moments: Record<string, number[]> }[] = [];
  const read = (bytes: Uint8Array) =>
    Object.fromEntries(Object.entries(decodeSafetensors(bytes).tensors).map(([name, entry]) => [name, Array.from(entry.data as Float32Array)]));
  const summary: TrainSummary = await train({
    model,
    data,
    recipe,
    plan,
    onCheckpoint: async (kind, contents) => {
      if (kind !== 'last') return;
      const files = await checkpointFiles(contents);
      saved.push({ step: contents.state.step, weights: read(files.get('weights.safetensors')!), moments: read(files.get('optimizer.safetensors')!) });
    },
  });
  model.dispose();
  return { summary, saved };
}

useBackend('webgpu');

describe('reads between compiled steps on webgpu', () => {
  it("give every checkpoint the step's weights and moments, as eager steps do", async () => {
    const eager = await run(false);
    const compiled = await run(true);
    expect(eager.summary.stepKind).toBe('eager');
    expect(compiled.summary.stepKind).toBe('compiled');
    expect(compiled.saved.map((s) => s.step)).toEqual([2, 4, 6, 7]);
    expect(eager.saved.map((s) => s.step)).toEqual([2, 4, 6, 7]);
    compiled.saved.forEach((checkpoint, i) => {
      for (const [name, values] of Object.entries(eager.saved[i].weights)) expect(checkpoint.weights[name], `step ${checkpoint.step} ${name}`).toEqual(values);
      for (const [name, values] of Object.entries(eager.saved[i].moments)) expect(checkpoint.moments[name], `step ${checkpoint.step} ${name}`).toEqual(values);
    });
    // The checkpoints differ from one another: the comparison would prove nothing otherwise.
    expect(compiled.saved[3].weights['wte']).not.toEqual(compiled.saved[0].weights['wte']);
  });
});
