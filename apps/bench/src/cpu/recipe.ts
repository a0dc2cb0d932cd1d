/**
 * nanoGPT's CPU recipe (its README's laptop run): 4 layers, 4 heads, D 128, context 64,
 * batch 12, dropout 0, lr 1e-3 with 100 warm-up steps and cosine to 1e-4, 2000 steps.
 */
export const CPU_RECIPE = { layers: 4, dim: 128, heads: 4, contextLength: 64, batch: 12, dropout: 0, steps: 2000 } as const;

export interface CpuModel {
  /** Our layer pattern. */
  layers: string;
  /** The same model in a PyTorch anchor with torch_ref.py's flags (--model, --hybrid). */
  anchor: string[];
}

/** The five standard lm-char models at four layers; the hybrids keep attention at the same relative depths. */
export const CPU_MODELS: Record<string, CpuModel> = {
  gpt: { layers: 'softmax-attention*4', anchor: ['--model', 'gpt'] },
  'hsm-ab': { layers: 'hsm-ab*4', anchor: ['--model', 'hsm-ab'] },
  'learned-fusion': { layers: 'learned-fusion*4', anchor: ['--model', 'hsm-fusion'] },
  hybrid: { layers: 'hsm-ab,softmax-attention,hsm-ab,softmax-attention', anchor: ['--model', 'hybrid', '--hybrid', '1,3'] },
  'hsm-ab-last-attn': { layers: 'hsm-ab*3,softmax-attention', anchor: ['--model', 'hybrid', '--hybrid', '3'] },
};

/** The anchor's command line for `model` at the CPU recipe, `iters` steps of which it times all but the first 20. */
export function anchorArgs(script: string, model: CpuModel, iters: number, data: string): string[] {
  const r = CPU_RECIPE;
  return [
    script,
    '--device',
    'cpu',
    ...model.anchor,
    '--layers',
    String(r.layers),
    '--heads',
    String(r.heads),
    '--dim',
    String(r.dim),
    '--ctx',
    String(r.contextLength),
    '--batch',
    String(r.batch),
    '--dropout',
    String(r.dropout),
    '--iters',
    String(iters),
    '--eval-batches',
    '1',
    '--data',
    data,
  ];
}
