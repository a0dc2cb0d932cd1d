import { tf, type Tensor, type Variable } from '../../tf.js';

/** Where each weight lives in a flat float32 buffer, in the order of model.weights(). */
export interface FlatLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  size: number;
}

export function flatLayout(weights: Map<string, Variable>): FlatLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let size = 0;
  for (const [name, v] of weights) {
    names.push(name);
    shapes.push([...v.shape]);
    offsets.push(size);
    size += v.size;
  }
  return { names, shapes, offsets, size };
}

/** Copies tensors (by name; a missing one is zeros) into `out`. */
export function writeFlat(layout: FlatLayout, tensors: Map<string, Tensor | null | undefined>, out: Float32Array): void {
  layout.names.forEach((name, i) => {
    const size = tf.util.sizeFromShape(layout.shapes[i]);
    const target = out.subarray(layout.offsets[i], layout.offsets[i] + size);
    const t = tensors.get(name);
    if (t) target.set(t.dataSync() as Float32Array);
    else target.fill(0);
  });
}

/** Tensors of each weight's slice of `flat` (copies: the caller owns and disposes them). */
export function readFlat(layout: FlatLayout, flat: Float32Array): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  layout.names.forEach((name, i) => {
    const size = tf.util.sizeFromShape(layout.shapes[i]);
    out.set(name, tf.tensor(flat.slice(layout.offsets[i], layout.offsets[i] + size), layout.shapes[i]));
  });
  return out;
}

/** Assigns each weight its slice of `flat`. */
export function assignFlat(layout: FlatLayout, weights: Map<string, Variable>, flat: Float32Array): void {
  const values = readFlat(layout, flat);
  for (const [name, t] of values) {
    weights.get(name)!.assign(t);
    t.dispose();
  }
}

/** sum_s weights[s] * slots[s], slot by slot in a fixed order (every replica gets the same floats). */
export function weightedSum(slots: Float32Array[], weights: number[], out: Float32Array): void {
  const first = slots[0];
  const w0 = weights[0];
  for (let i = 0; i < out.length; i++) out[i] = w0 * first[i];
  for (let s = 1; s < slots.length; s++) {
    const slot = slots[s];
    const w = weights[s];
    for (let i = 0; i < out.length; i++) out[i] += w * slot[i];
  }
}
