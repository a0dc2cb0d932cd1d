import { observeKeptForGradient } from '../../kernels/saved.js';
import type { Rng } from '../../rng.js';
import { tf, type Tensor } from '../../tf.js';

// Records what one eager training step asks of the backend, at the level of tfjs's
// registered kernels: every kernel call in order (the forward pass, what autodiff runs
// for the backward pass, the optimizer's update), the host data written into the step
// (constants, and anything a layer makes on the host), what the step reads back, and the
// random draws the model took. A plan (plan.ts) is built from two such traces.

type DataId = object;
type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

/** One registered kernel the step called. */
export interface TracedCall {
  kernel: string;
  /** The backend's function, called again when the plan replays. */
  kernelFunc: KernelFunc;
  /** Input name -> the tensor passed (a Tensor in an eager step); the names are indices for a list (Concat). */
  inputs: [string, TensorInfo][];
  /** Whether the kernel took its inputs as a list. */
  listInputs: boolean;
  attrs: tf.NamedAttrMap;
  outputs: TensorInfo[];
  /** What the kernel kept for its gradient beside its outputs (keepForGradient), in order. */
  hidden: TensorInfo[];
  /** Where the call came from: "block 2 mixer hsm-ab" while that mixer's forward ran. */
  scope: string;
}

/** Host data written into the step outside any kernel: constants, or data made on the host. */
export interface TracedWrite {
  values: tf.backend_util.BackendValues | null;
  shape: number[];
  dtype: tf.DataType;
  scope: string;
}

export interface StepTrace {
  backend: tf.KernelBackend;
  calls: TracedCall[];
  writes: Map<DataId, TracedWrite>;
  /** Data read on the host during the step (outside kernels), in order. */
  reads: { dataId: DataId; scope: string }[];
  /** The model's random draws (Rng.nextUint32), in order. */
  draws: number[];
  /**
   * Tensors kept between steps that the step read (weights, moments, caches), with their
   * data id when first read. A weight is one whatever aliases of its data the step made.
   */
  externals: Map<Tensor, DataId>;
}

/** A method to wrap while tracing, so the kernels it calls carry its label. */
export interface TraceScope {
  label: string;
  target: object;
  method: string;
}

/**
 * Runs `step` (one eager training step, awaited to its end) and records it. The kernels
 * registered for the active backend are wrapped for the duration, and restored after,
 * whether the step succeeds or throws.
 */
export async function traceStep<T>(step: () => Promise<T>, rng: Rng, scopes: TraceScope[] = []): Promise<{ result: T; trace: StepTrace }> {
  const backend = tf.engine().backend;
  const trace: StepTrace = { backend, calls: [], writes: new Map(), reads: [], draws: [], externals: new Map() };
  // Kernels that run other kernels (a backend's composite) are recorded once, at the top.
  let depth = 0;
  let scope = 'the model';
  let hidden: TensorInfo[] = [];
  const undo: (() => void)[] = [];
  const patch = <O extends object, K extends keyof O>(target: O, key: K, value: O[K]) => {
    const own = Object.prototype.hasOwnProperty.call(target, key);
    const before = target[key];
    target[key] = value;
    undo.push(() => {
      if (own) target[key] = before;
      else delete target[key];
    });
  };

  for (const config of tf.getKernelsForBackend(tf.getBackend())) {
    const original = config.kernelFunc;
    patch(config, 'kernelFunc', ((args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend }) => {
      if (depth > 0) return original(args as never);
      depth += 1;
      hidden = [];
      let out: TensorInfo | TensorInfo[];
      try {
        out = original(args as never);
      } finally {
        depth -= 1;
      }
      const inputs = Object.entries(args.inputs).filter((e): e is [string, TensorInfo] => e[1] != null);
      const outputs = Array.isArray(out) ? out : [out];
      const listInputs = Array.isArray(args.inputs);
      trace.calls.push({ kernel: config.kernelName, kernelFunc: original, inputs, listInputs, attrs: args.attrs ?? {}, outputs, hidden, scope });
      return out;
    }) as KernelFunc);
  }

  const write = backend.write.bind(backend);
  patch(backend, 'write', ((values, shape, dtype) => {
    const dataId = write(values, shape, dtype);
    // Copied: the caller may reuse its array, and the plan keeps these values.
    if (depth === 0) trace.writes.set(dataId, { values: copyValues(values), shape: [...shape], dtype, scope });
    return dataId;
  }) as typeof backend.write);
  for (const name of ['read', 'readSync'] as const) {
    const read = (backend[name] as (dataId: DataId) => unknown).bind(backend);
    // A backend's read may call its readSync: the one read is recorded.
    patch(backend, name, ((dataId: DataId) => {
      if (depth === 0) trace.reads.push({ dataId, scope });
      depth += 1;
      try {
        return read(dataId);
      } finally {
        depth -= 1;
      }
    }) as never);
  }

  observeKeptForGradient((extra) => {
    hidden.push(extra);
    return false;
  });
  undo.push(() => observeKeptForGradient(undefined));

  const draw = rng.nextUint32.bind(rng);
  patch(rng, 'nextUint32', () => {
    const value = draw();
    trace.draws.push(value);
    return value;
  });

  for (const s of scopes) {
    const method = (s.target as Record<string, unknown>)[s.method];
    if (typeof method !== 'function') continue;
    patch(s.target as Record<string, unknown>, s.method, function (this: unknown, ...args: unknown[]) {
      const outer = scope;
      scope = s.label;
      try {
        return (method as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        scope = outer;
      }
    });
  }

  try {
    const result = await step();
    recordExternals(trace);
    return { result, trace };
  } finally {
    for (const restore of undo.reverse()) restore();
  }
}

function copyValues(values: tf.backend_util.BackendValues | null): tf.backend_util.BackendValues | null {
  if (values == null) return null;
  if (ArrayBuffer.isView(values)) return (values as Float32Array).slice();
  return values;
}

// Inputs no call of the step produced and the host did not write: weights, optimizer
// moments, the batch, and tensors a layer keeps between steps.
function recordExternals(trace: StepTrace): void {
  const produced = new Set<DataId>();
  for (const call of trace.calls) {
    for (const [, info] of call.inputs) {
      if (isExternal(info, produced, trace) && !trace.externals.has(info as Tensor)) trace.externals.set(info as Tensor, info.dataId);
    }
    for (const out of [...call.outputs, ...call.hidden]) produced.add(out.dataId);
  }
}

/** Whether an input is a tensor kept between steps: a weight (even where the step aliased its data), or data the step did not make. */
export function isExternal(info: TensorInfo, produced: { has(dataId: DataId): boolean }, trace: StepTrace): boolean {
  return info instanceof tf.Variable || (!produced.has(info.dataId) && !trace.writes.has(info.dataId));
}
