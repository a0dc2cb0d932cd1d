import { ShiftmixError, tf } from '@shiftmix/core';
import { ADAMW } from '@shiftmix/core/kernels';
import type { NativeKernels } from '../addon.js';
import { heapViews, withNative, type KernelArgs, type WasmBackend } from './heap.js';

// The optimizer's step under wasm: global-norm clipping and AdamW of every weight at once.

declare module '../addon.js' {
  interface NativeKernels {
    /**
     * Global-norm clip and AdamW of every weight, in place; report gets [norm, applied].
     * Nothing changes when loss or norm is not finite (which sets halt[0]) or halt[0] is set.
     */
    adamw(
      p: Float32Array[],
      m: Float32Array[],
      v: Float32Array[],
      g: Float32Array[],
      decays: number[],
      halt: Float32Array,
      report: Float32Array,
      lr: number,
      beta1: number,
      beta2: number,
      eps: number,
      weightDecay: number,
      maxNorm: number,
      loss: number,
      step: number,
    ): void;
  }
}

type Named = Record<string, tf.TensorInfo>;

const scalarOf = (wasm: WasmBackend, info: tf.TensorInfo) => (wasm.typedArrayFromHeap(info) as Float32Array)[0];

interface RefCounted {
  dataIdMap: { get(dataId: object): { refCount: number } };
}

/** Clip and AdamW over every weight in one native call, in place on the heap (core's ADAMW contract). */
function implementAdamW(native: NativeKernels): void {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const named = inputs as Named;
    const a = (attrs ?? {}) as Record<string, number & number[]>;
    const count = Number(a.count);
    const wasm = backend as WasmBackend;
    const weights = Array.from({ length: count }, (_, i) => ['p', 'm', 'v', 'g'].map((k) => named[`${k}${i}`]));
    const bad = weights.some((w) => w.some((x) => !x || x.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, w[0].shape)));
    if (!(count >= 1) || bad || !named.halt || !named.loss) {
      throw new ShiftmixError(
        `${ADAMW.name} needs p, m, v and g of one float32 shape for each of attrs.count weights, a loss and a halt flag`,
        "Run it through core's AdamW.clipAndApply",
        'E_INPUT',
      );
    }
    // Updating in place is only safe where no other tensor shares the buffer.
    const map = (backend as RefCounted).dataIdMap;
    const shared = [...weights.flatMap((w) => w.slice(0, 3)), named.halt].find((x) => map.get(x.dataId).refCount > 1);
    if (shared) {
      throw new ShiftmixError(
        `${ADAMW.name} would update a buffer in place that other tensors share`,
        "Run it through core's AdamW.clipAndApply, which gives every weight and moment its own buffer",
        'E_INPUT',
      );
    }
    const report = wasm.makeOutput([2], 'float32');
    const views = weights.map((w) => heapViews(wasm, ...w));
    const [haltv, reportv] = heapViews(wasm, named.halt, report);
    const column = (k: number) => views.map((w) => w[k]);
    native.adamw(
      column(0),
      column(1),
      column(2),
      column(3),
      a.decays,
      haltv,
      reportv,
      a.lr,
      a.beta1,
      a.beta2,
      a.eps,
      a.weightDecay,
      a.maxNorm,
      scalarOf(wasm, named.loss),
      a.step,
    );
    return report;
  };
  ADAMW.implement('wasm', kernelFunc);
}

// Implemented on import, where the addon is built.
withNative(implementAdamW);
