import { ModelWorker, type GenerateResult } from './client.js';
import { describeRecipe, providerReason, type BundledModel } from './labels.js';
import { DemoError, type ModelInfo, type ModelSource, type ProviderChoice, type SamplingRequest } from './protocol.js';

export type { BundledModel };

type PanelState = 'empty' | 'loading' | 'ready' | 'generating' | 'done' | 'error';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/**
 * One model column: its picker (bundled models, or a folder or files of the user's),
 * provider and speed, messages, and the streamed text. Each load gets a fresh worker.
 */
export class ModelPanel {
  readonly root = el('section', 'panel');
  private readonly picker = el('select', 'picker');
  private readonly folderInput = el('input', 'folder');
  private readonly filesInput = el('input', 'files');
  private readonly info = el('p', 'info');
  private readonly recipe = el('p', 'recipe');
  private readonly provider = el('span', 'provider', 'not chosen yet');
  private readonly separator = el('span', 'sep');
  private readonly fallback = el('p', 'fallback');
  private readonly speed = el('span', 'tps');
  private readonly stats = el('span', 'stats');
  private readonly message = el('p', 'message');
  private readonly output = el('pre', 'output');
  private worker: ModelWorker | null = null;
  private loading: Promise<ModelInfo | null> = Promise.resolve(null);
  private providerChoice: ProviderChoice = 'auto';

  constructor(
    index: number,
    title: string,
    private readonly bundled: BundledModel[],
    private readonly baseUrl: string,
  ) {
    this.root.dataset.testid = `panel-${index}`;
    this.setState('empty');
    this.folderInput.type = 'file';
    this.folderInput.setAttribute('webkitdirectory', '');
    this.filesInput.type = 'file';
    this.filesInput.multiple = true;
    this.filesInput.accept = '.json,.onnx';
    for (const m of bundled) this.picker.append(new Option(m.label, m.id));
    this.picker.append(new Option('Your exported model (Open folder… or Open files…)', ''));
    this.picker.onchange = () => this.picker.value && this.loadBundled(this.picker.value);
    this.folderInput.onchange = () => this.loadPicked(this.folderInput.files);
    this.filesInput.onchange = () => this.loadPicked(this.filesInput.files);
    const pick = el('div', 'pick');
    const folder = el('label', 'button', 'Open folder… ');
    folder.append(this.folderInput);
    const files = el('label', 'button', 'Open files… ');
    files.append(this.filesInput);
    pick.append(this.picker, folder, files);
    const line = el('p', 'line');
    line.append('Provider: ', this.provider, this.separator, this.speed, this.stats);
    this.setSpeed('');
    this.root.append(el('h2', '', title), pick, this.recipe, this.info, line, this.fallback, this.message, this.output);
  }

  setProvider(choice: ProviderChoice): void {
    this.providerChoice = choice;
  }

  /** Loads a bundled model by id, or a folder under models/ by path. */
  loadBundled(idOrPath: string): Promise<ModelInfo | null> {
    const known = this.bundled.find((m) => m.id === idOrPath);
    this.picker.value = known ? known.id : '';
    const path = known ? known.path : idOrPath;
    this.recipe.textContent = known ? describeRecipe(known) : '';
    return this.load({ kind: 'url', base: new URL(`${this.baseUrl}models/${path}`, location.href).href });
  }

  /** Reloads the current model (after the provider changed). */
  reload(): Promise<ModelInfo | null> {
    return this.picker.value ? this.loadBundled(this.picker.value) : this.loading;
  }

  private loadPicked(list: FileList | null): void {
    if (!list || list.length === 0) return;
    this.picker.value = '';
    this.recipe.textContent = '';
    void this.load({ kind: 'files', files: [...list] });
  }

  private load(source: ModelSource): Promise<ModelInfo | null> {
    this.worker?.terminate();
    const worker = new ModelWorker();
    this.worker = worker;
    this.setState('loading');
    this.info.textContent = 'Loading…';
    this.provider.textContent = '…';
    this.provider.title = '';
    this.fallback.textContent = '';
    this.setSpeed('');
    this.stats.textContent = '';
    this.output.replaceChildren();
    delete this.root.dataset.provider;
    delete this.root.dataset.stats;
    this.showError(null);
    this.loading = worker.load(source, this.providerChoice).then(
      (info) => {
        if (this.worker !== worker) return null;
        this.showInfo(info);
        this.setState('ready');
        return info;
      },
      (error: DemoError) => {
        if (this.worker !== worker) return null;
        this.info.textContent = 'No model loaded.';
        this.provider.textContent = 'none';
        this.showError(error);
        return null;
      },
    );
    return this.loading;
  }

  private showInfo(info: ModelInfo): void {
    const ctx = info.maxSequenceLength === null ? `trained at ${info.contextLength}, unbounded decode` : `context ${info.maxSequenceLength}`;
    this.info.textContent = `${info.name}: ${info.layers} · D ${info.dim} · ${ctx} · vocabulary ${info.vocabSize} · ${info.stateTensors} state tensors · loaded in ${Math.round(info.loadMs)} ms, warm-up ${Math.round(info.warmupMs)} ms`;
    this.provider.textContent = info.provider;
    this.provider.title = info.adapter ? `WebGPU adapter: ${info.adapter}` : '';
    this.root.dataset.provider = info.provider;
    this.fallback.textContent = providerReason(info);
    // Passing over a software adapter is the plan, not a problem.
    this.fallback.classList.toggle('warn', !!info.fallbackReason && !info.adapterSoftware);
  }

  private setSpeed(text: string): void {
    this.speed.textContent = text;
    // Until there is a speed the line names the provider alone, without a dangling " · ".
    this.separator.textContent = text ? ' · ' : '';
  }

  /** Generates from `prompt`; resolves when done (or failed, with the error shown). */
  async generate(prompt: string, options: SamplingRequest & { maxTokens: number; timings?: boolean }): Promise<GenerateResult | null> {
    // Cleared at once, so whoever watches the page sees the next result, not the last.
    delete this.root.dataset.stats;
    const info = await this.loading;
    const worker = this.worker;
    if (!info || !worker) return null;
    this.setState('generating');
    this.showError(null);
    this.output.replaceChildren(el('span', 'prompt', prompt));
    const generated = el('span', 'generated');
    this.output.append(generated);
    this.setSpeed('');
    this.stats.textContent = '';
    // Tokens arrive faster than frames: the page is updated once per frame, so layout
    // does not take CPU time from the worker (on wasm the two share the cores).
    let pending = '';
    let speed = 0;
    let frame = 0;
    const flush = () => {
      frame = 0;
      generated.append(pending);
      pending = '';
      this.setSpeed(`${speed.toFixed(1)} tokens/s`);
    };
    try {
      const result = await worker.generate(prompt, options, (text, tps) => {
        pending += text;
        speed = tps;
        frame ||= requestAnimationFrame(flush);
      });
      if (frame) cancelAnimationFrame(frame);
      flush();
      const s = result.stats;
      this.setSpeed(`${s.tokensPerSecond.toFixed(1)} tokens/s`);
      this.speed.dataset.value = String(s.tokensPerSecond);
      this.stats.textContent = ` (${s.generatedTokens} tokens in ${(s.decodeMs / 1000).toFixed(2)} s; prompt of ${s.promptTokens} in ${Math.round(s.prefillMs)} ms${s.restarts ? `; context refilled ${s.restarts}×` : ''}${result.stopped ? '; stopped' : ''})`;
      this.root.dataset.stats = JSON.stringify(s);
      this.setState('done');
      return result;
    } catch (error) {
      if (this.worker === worker) this.showError(error as DemoError);
      return null;
    }
  }

  stop(): void {
    this.worker?.stop();
  }

  get busy(): boolean {
    return this.root.dataset.state === 'loading' || this.root.dataset.state === 'generating';
  }

  private setState(state: PanelState): void {
    this.root.dataset.state = state;
  }

  private showError(error: DemoError | null): void {
    this.message.textContent = error ? `${error.problem}. ${error.fix}` : '';
    this.message.dataset.code = error?.code ?? '';
    if (error) this.setState('error');
  }
}
