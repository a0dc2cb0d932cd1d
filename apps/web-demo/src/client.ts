import type { GenerationStats, ModelInfo, ModelSource, ProviderChoice, SamplingRequest, WorkerRequest, WorkerResponse } from './protocol.js';
import { DemoError } from './protocol.js';

type Pending = {
  resolve: (value: never) => void;
  reject: (error: DemoError) => void;
  onToken?: (text: string, tokensPerSecond: number) => void;
};

export interface GenerateResult {
  text: string;
  stats: GenerationStats;
  stopped: boolean;
}

/** The page's side of one model worker: requests become promises, tokens callbacks. */
export class ModelWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      const error = new DemoError(`the model worker failed: ${event.message || 'it could not start'}`, 'Reload the page', 'E_WORKER');
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
  }

  load(source: ModelSource, provider: ProviderChoice): Promise<ModelInfo> {
    return this.request<ModelInfo>({ type: 'load', id: 0, source, provider });
  }

  generate(
    prompt: string,
    options: SamplingRequest & { maxTokens: number; timings?: boolean },
    onToken: (text: string, tokensPerSecond: number) => void,
  ): Promise<GenerateResult> {
    return this.request<GenerateResult>({ type: 'generate', id: 0, prompt, ...options }, onToken);
  }

  stop(): void {
    this.worker.postMessage({ type: 'stop', id: 0 } satisfies WorkerRequest);
  }

  terminate(): void {
    this.worker.terminate();
    const error = new DemoError('the model was unloaded', '', 'E_UNLOADED');
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private request<T>(message: WorkerRequest, onToken?: Pending['onToken']): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject, onToken });
      this.worker.postMessage({ ...message, id });
    });
  }

  private receive(message: WorkerResponse): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    if (message.type === 'token') {
      p.onToken?.(message.text, message.tokensPerSecond);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'loaded') p.resolve(message.info as never);
    else if (message.type === 'done') p.resolve({ text: message.text, stats: message.stats, stopped: message.stopped } as never);
    else p.reject(new DemoError(message.problem, message.fix, message.code));
  }
}
