import type { ModelInfo } from './protocol.js';

// What the panel says of a model and its provider, as plain functions (tested without a DOM).

/** A model of public/models/index.json (scripts/make-models.mjs writes it). */
export interface BundledModel {
  id: string;
  label: string;
  path: string;
  layers?: string;
  params?: number;
  /** How it was trained, read from its run's checkpoint. */
  recipe?: {
    source?: string;
    dim: number;
    heads: number;
    contextLength: number;
    dropout: number;
    steps: number;
    batch: number;
    lr: number;
    minLr: number;
  };
  /** Validation loss at the last evaluation, and of the exported (best) checkpoint. */
  valLoss?: number;
  exportedValLoss?: number;
  exportedStep?: number;
}

/** One line on how a bundled model was trained and how well: recipe and validation loss. */
export function describeRecipe(m: BundledModel): string {
  const r = m.recipe;
  if (!r) return '';
  const params = m.params ? `${(m.params / 1e6).toFixed(2)}M parameters, ` : '';
  const loss =
    m.valLoss === undefined
      ? ''
      : `; validation loss ${m.valLoss.toFixed(3)}` +
        (m.exportedStep !== undefined && m.exportedStep !== r.steps && m.exportedValLoss !== undefined
          ? ` (exported: step ${m.exportedStep}, ${m.exportedValLoss.toFixed(3)})`
          : '');
  const source = r.source ? `Trained with ${r.source}` : 'Trained';
  return `${source}: ${params}D ${r.dim}, ${r.heads} heads, context ${r.contextLength}; ${r.steps} steps of batch ${r.batch}, lr ${r.lr} to ${r.minLr}, dropout ${r.dropout}${loss}.`;
}

/**
 * Which provider runs the model and why, in one line. The adapter's name is in the
 * page's header (once), not here.
 */
export function providerReason(info: Pick<ModelInfo, 'provider' | 'choice' | 'fallbackReason' | 'adapterSoftware'>): string {
  if (info.provider === 'wasm') return info.fallbackReason ? `auto chose wasm (CPU): ${info.fallbackReason}.` : 'wasm (CPU), as chosen.';
  if (info.choice === 'auto') return 'auto chose WebGPU: the adapter is a hardware one.';
  return info.adapterSoftware ? 'WebGPU, as chosen, on a software adapter: wasm is likely faster here.' : 'WebGPU, as chosen.';
}
