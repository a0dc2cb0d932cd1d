import { ShiftmixError } from '../errors.js';
import { tf, type Tensor } from '../tf.js';
import type { ParityCheck } from './parity.js';

/** An attribute of a kernel call: a number, a flag, or a list (shifts). */
export type AttrValue = number | boolean | null | readonly number[];
export type KernelAttrs = Record<string, AttrValue>;
export type KernelInputs = Record<string, Tensor>;

/**
 * How a fused kernel is differentiated: which of its inputs and outputs the backward
 * needs, and the gradient of each differentiable input from dy (one per output) and
 * those saved tensors, usually by calling `backward`, the kernel's own backward kernel.
 * Gradients belong to the kernel, not to a backend: every backend that implements a
 * forward kernel implements the backward kernel it calls.
 */
export interface KernelGradient<A extends object> {
  inputs?: string[];
  outputs?: boolean[];
  backward(dys: Tensor[], saved: { inputs: Tensor[]; outputs: Tensor[] }, attrs: A, backward: FusedKernel<A>): Record<string, () => Tensor>;
}

/** A kernel's contract: its name, inputs, outputs and their shapes. */
export interface KernelContract<A extends object> {
  /** The tfjs kernel name every backend registers it under. */
  name: string;
  summary: string;
  /** Input name -> dtype and shape, in call order. */
  inputs: Record<string, string>;
  /** Output name -> shape, in order. */
  outputs: Record<string, string>;
  /** Each output's shape from the inputs' shapes and the attributes: what a backend or a plan allocates. */
  shapes?: (inputs: Record<string, number[]>, attrs: A) => number[][];
}

/** A fused kernel as its one file in core declares it. */
export interface KernelSpec<A extends object> extends KernelContract<A> {
  /** Attribute name -> meaning, in call order. */
  attrs: { [K in keyof A]: string };
  /** The composite of tfjs ops the kernel must match, on any backend. */
  reference?: (inputs: KernelInputs, attrs: A) => Tensor | Tensor[];
  /** What runs where no backend implements the kernel; the reference unless it says otherwise. */
  composite?: (inputs: KernelInputs, attrs: A) => Tensor | Tensor[];
  /** Whether the inputs suit the kernel (dtypes, shapes); the composite runs when they do not. */
  fits?: (inputs: KernelInputs, attrs: A) => boolean;
  /** Its backward kernel, declared with it (the same attributes): `kernel.backward`. */
  backward?: KernelContract<A>;
  gradient?: KernelGradient<A>;
  /** Its parity checks against the reference, which every backend that implements it runs. */
  checks?: () => ParityCheck[];
}

/** A kernel whatever its attributes: what backends implement and registries list. */
export interface AnyKernel {
  readonly name: string;
  readonly spec: Pick<KernelSpec<object>, 'summary' | 'inputs' | 'outputs'> & { attrs: Record<string, string> };
  /** Each output's shape for inputs of these shapes (undefined when the kernel does not declare them). */
  outputShapes(inputs: Record<string, number[]>, attrs: object): number[][] | undefined;
  implementedOn(backend?: string): boolean;
  backends(): string[];
  implement(backend: string, kernelFunc: tf.KernelFunc): void;
  checks(): ParityCheck[];
}

const kernels = new Map<string, AnyKernel>();
// What onKernelDefined registered, told of each kernel defineKernel adds.
const listeners: ((kernel: AnyKernel) => void)[] = [];

/**
 * One fused kernel: its contract, its reference, its gradient and its parity checks, in
 * one object. Ops call it (`run`); backend packages register their implementations
 * against it (`implement`), as tfjs keeps one kernel registry keyed by name.
 */
export class FusedKernel<A extends object = KernelAttrs> implements AnyKernel {
  /** The backward kernel its spec declares, a kernel of its own (registered under its name). */
  readonly backward?: FusedKernel<A>;

  constructor(readonly spec: KernelSpec<A>) {
    if (spec.backward) this.backward = defineKernel<A>({ ...spec.backward, attrs: spec.attrs });
  }

  get name(): string {
    return this.spec.name;
  }

  /** Whether backend `backend` (the active one by default) implements this kernel. */
  implementedOn(backend: string = tf.getBackend()): boolean {
    return tf.getKernel(this.name, backend) !== undefined;
  }

  /** The backends that implement it. */
  backends(): string[] {
    return BACKENDS.filter((b) => this.implementedOn(b));
  }

  /**
   * Runs the kernel on the active backend when it implements it and the inputs fit, else
   * the composite. Outputs: one tensor, or a list when the kernel has several.
   */
  run<T extends Tensor | Tensor[] = Tensor>(inputs: KernelInputs, attrs: A): T {
    const fits = this.spec.fits?.(inputs, attrs) ?? true;
    if (fits && this.implementedOn()) return this.call<T>(inputs, attrs);
    const composite = this.spec.composite ?? this.spec.reference;
    if (!composite) {
      throw new ShiftmixError(
        `the ${tf.getBackend()} backend does not implement ${this.name}, which has no composite`,
        'Select a backend that implements it (webgpu, or wasm with @shiftmix/native)',
        'E_KERNEL',
      );
    }
    return composite(inputs, attrs) as T;
  }

  /** Dispatches to the active backend's implementation, with no fallback: what gradients and plans call. */
  call<T extends Tensor | Tensor[] = Tensor>(inputs: KernelInputs, attrs: A): T {
    return tf.engine().runKernel(this.name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as T;
  }

  /** The reference on the given inputs (for parity checks). */
  reference<T extends Tensor | Tensor[] = Tensor>(inputs: KernelInputs, attrs: A): T {
    if (!this.spec.reference) throw new ShiftmixError(`${this.name} has no reference`, 'Compare it through its op instead', 'E_KERNEL');
    return this.spec.reference(inputs, attrs) as T;
  }

  /**
   * Registers backend `backend`'s implementation (idempotent per backend), and the
   * kernel's gradient with tfjs the first time any backend implements it.
   */
  implement(backend: string, kernelFunc: tf.KernelFunc): void {
    if (!tf.getKernel(this.name, backend)) tf.registerKernel({ kernelName: this.name, backendName: backend, kernelFunc });
    const gradient = this.spec.gradient;
    if (gradient && !tf.getGradient(this.name)) {
      tf.registerGradient({
        kernelName: this.name,
        inputsToSave: gradient.inputs ?? [],
        outputsToSave: gradient.outputs,
        gradFunc: (dy, saved, attrs) => {
          const count = gradient.inputs?.length ?? 0;
          const split = { inputs: saved.slice(0, count), outputs: saved.slice(count) };
          return gradient.backward(Array.isArray(dy) ? dy : [dy], split, attrs as unknown as A, this.backward!);
        },
      });
    }
  }

  outputShapes(inputs: Record<string, number[]>, attrs: object): number[][] | undefined {
    return this.spec.shapes?.(inputs, attrs as A);
  }

  /** Its parity checks (none when it declares none). */
  checks(): ParityCheck[] {
    return this.spec.checks?.() ?? [];
  }
}

// The backends shiftmix's packages implement kernels on, for `backends()`.
const BACKENDS = ['webgpu', 'wasm', 'cpu', 'tensorflow'];

/** Declares a fused kernel; its name must be new. */
export function defineKernel<A extends object>(spec: KernelSpec<A>): FusedKernel<A> {
  if (kernels.has(spec.name)) {
    throw new ShiftmixError(`a fused kernel named ${spec.name} is already defined`, 'Give each kernel its own name', 'E_KERNEL');
  }
  // Its place in the list comes before its backward kernel's, which the constructor defines.
  kernels.set(spec.name, undefined as unknown as AnyKernel);
  let kernel: FusedKernel<A>;
  try {
    kernel = new FusedKernel(spec);
    kernels.set(spec.name, kernel as unknown as AnyKernel);
  } catch (error) {
    kernels.delete(spec.name);
    throw error;
  }
  for (const listener of listeners) listener(kernel as unknown as AnyKernel);
  return kernel;
}

/**
 * Calls `listener` with every fused kernel defined so far, then with each one defined later
 * as it is defined: how a backend package implements kernels by name (@shiftmix/native, the
 * kernels its addon exports), a plugin's included, whichever of the two is imported first.
 */
export function onKernelDefined(listener: (kernel: AnyKernel) => void): void {
  listeners.push(listener);
  for (const kernel of listKernels()) listener(kernel);
}

/** Every fused kernel defined so far (core's own, and those plugins define), in order. */
export function listKernels(): AnyKernel[] {
  return [...kernels.values()];
}

/** The kernel named `name`, if defined. */
export function findKernel(name: string): AnyKernel | undefined {
  return kernels.get(name);
}

/** A kernel call's result as a list, whether it has one output or several. */
export function outputsOf(result: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(result) ? result : [result];
}
