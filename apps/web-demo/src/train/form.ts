import type { ModelChoice, OpenedInfo, RecipeChoice } from './protocol.js';

// The Train page's form: the models and recipe it says, and the URL parameters that
// preset it (models=gpt,hsm-ab&steps=...&dim=...&provider=wasm), for links and tests.

const PRESETS: Record<string, string> = {
  gpt: 'softmax-attention*4',
  'hsm-ab': 'hsm-ab*4',
  'learned-fusion': 'learned-fusion*4',
  hybrid: 'hsm-ab*3,softmax-attention',
};

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const number = (id: string) => Number($<HTMLInputElement>(id).value);

/** The ticked models, a typed pattern, and the opened checkpoint when "train on from" is ticked. */
export function chosenModels(opened: OpenedInfo | undefined): ModelChoice[] {
  const dim = number('#dim');
  const heads = number('#heads');
  const contextLength = number('#ctx');
  const picked = [...document.querySelectorAll<HTMLInputElement>('input[name=model]:checked')].map((box) => ({ label: box.value, layers: PRESETS[box.value] }));
  const typed = $<HTMLInputElement>('#pattern').value.trim();
  if (typed) picked.push({ label: typed, layers: typed });
  const models: ModelChoice[] = picked.map((m) => ({ ...m, dim, heads, contextLength }));
  if (opened && $<HTMLInputElement>('#from-checkpoint').checked) {
    // Its own sizes and characters; the page's recipe (steps, batch, lr, seed) from its weights.
    models.push({
      label: `${opened.name} (fine-tuned)`,
      layers: opened.layers,
      dim: opened.dim,
      heads: opened.heads,
      contextLength: opened.contextLength,
      fromCheckpoint: true,
    });
  }
  return models;
}

export function chosenRecipe(): RecipeChoice {
  const steps = number('#steps');
  const tokenizer = $<HTMLSelectElement>('#tokenizer').value === 'gpt2' ? 'gpt2' : 'char';
  return {
    steps,
    batch: number('#batch'),
    lr: number('#lr'),
    seed: number('#seed'),
    evalEvery: Math.max(1, Math.round(steps / 10)),
    evalBatches: 8,
    tokenizer,
  };
}

/** Sets the form from the page's URL parameters; returns them. */
export function presetForm(): URLSearchParams {
  const params = new URLSearchParams(location.search);
  const models = params.get('models');
  if (models) {
    const wanted = models.split(',');
    document.querySelectorAll<HTMLInputElement>('input[name=model]').forEach((box) => (box.checked = wanted.includes(box.value)));
    $<HTMLInputElement>('#pattern').value = wanted.filter((m) => !(m in PRESETS)).join('');
  }
  for (const key of ['dim', 'heads', 'ctx', 'batch', 'steps', 'lr', 'seed']) {
    const value = params.get(key);
    if (value !== null) $<HTMLInputElement>(`#${key}`).value = value;
  }
  const tokenizer = params.get('tokenizer');
  if (tokenizer) $<HTMLSelectElement>('#tokenizer').value = tokenizer;
  const provider = params.get('provider');
  if (provider) $<HTMLSelectElement>('#provider').value = provider;
  return params;
}
