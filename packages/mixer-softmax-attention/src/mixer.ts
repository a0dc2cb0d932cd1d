import {
  ShiftmixError,
  applyRope,
  cachedAttention,
  causalAttention,
  linear,
  packedCausalAttention,
  tf,
  type ForwardOptions,
  type Mixer,
  type MixerContext,
  type MixerState,
  type OnnxGraph,
  type OnnxLowered,
  type OnnxLowering,
  type Rng,
  type Tensor,
  type Tensor2D,
  type Tensor3D,
  type Variable,
} from '@shiftmix/core';
import type { ResolvedSoftmaxAttentionConfig } from './config.js';
import { lowerSoftmaxAttention } from './onnx.js';

function variable(initial: Tensor): Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/**
 * Causal multi-head softmax attention (GPT-2 layout): a fused qkv projection whose
 * output is [q | k | v], heads split as D = H * hd, and an output projection.
 *
 * Decoding keeps a KV cache in the state: tensors "k" and "v", [B, H, S, hd], holding the
 * (RoPE-rotated) keys and values of the positions the next token may see. It grows by one
 * per step; with a window it stops at `window` entries, dropping the oldest.
 */
export class SoftmaxAttention implements Mixer {
  readonly weights: Record<string, Variable>;
  readonly dim: number;
  readonly heads: number;
  readonly headDim: number;
  /** T_max: the length of the RoPE tables in an ONNX export. */
  readonly contextLength: number;
  private readonly rng: Rng;

  constructor(
    ctx: MixerContext,
    readonly config: ResolvedSoftmaxAttentionConfig,
  ) {
    const d = ctx.dim;
    this.dim = d;
    this.heads = ctx.heads;
    this.headDim = d / ctx.heads;
    this.contextLength = ctx.contextLength;
    this.rng = ctx.rng;
    this.weights = {
      'qkv.weight': variable(ctx.init.normal([d, 3 * d])),
      'qkv.bias': variable(ctx.init.zeros([3 * d])),
      'out.weight': variable(ctx.init.outputProjection([d, d])),
      'out.bias': variable(ctx.init.zeros([d])),
    };
  }

  // [..., T, D] with leading batch b -> [B, H, T, hd]
  private splitHeads(x: Tensor, b: number, t: number): Tensor {
    return x.reshape([b, t, this.heads, this.headDim]).transpose([0, 2, 1, 3]);
  }

  // u: [B, T, D] (or [B, D] as T = 1) -> q, k, v: [B, H, T, hd], RoPE applied from `start`.
  private project(u: Tensor, b: number, t: number, start: number): [Tensor, Tensor, Tensor] {
    const w = this.weights;
    const qkv = linear(u, w['qkv.weight'], w['qkv.bias']); // [B, T, 3D]
    const [q, k, v] = tf.split(qkv, 3, -1).map((x) => this.splitHeads(x, b, t));
    if (!this.config.rope) return [q, k, v];
    const base = this.config.ropeBase;
    return [applyRope(q, start, base), applyRope(k, start, base), v];
  }

  forward(u: Tensor3D, opts: ForwardOptions): Tensor3D {
    const [b, t, d] = u.shape;
    const rate = this.config.attentionDropout;
    // Draw a seed only when a mask is drawn, so evaluation leaves the model rng untouched.
    const seed = opts.training && rate > 0 ? this.rng.seed() : undefined;
    const options = { window: this.config.window, dropout: rate, seed, training: opts.training };
    return tf.tidy(() => {
      const w = this.weights;
      let merged: Tensor; // [B, T, D]
      if (this.config.rope) {
        // RoPE rotates q and k between the split and the attention.
        const [q, k, v] = this.project(u, b, t, 0);
        merged = causalAttention(q, k, v, options).transpose([0, 2, 1, 3]).reshape([b, t, d]);
      } else {
        // Without RoPE a fused backend reads the heads straight from the projection.
        merged = packedCausalAttention(linear(u, w['qkv.weight'], w['qkv.bias']), this.heads, options);
      }
      return linear(merged, w['out.weight'], w['out.bias']) as Tensor3D;
    });
  }

  initState(batch: number): MixerState {
    const empty = (): Tensor => tf.zeros([batch, this.heads, 0, this.headDim]);
    return { position: 0, tensors: { k: empty(), v: empty() } };
  }

  step(u: Tensor2D, state: MixerState): { y: Tensor2D; state: MixerState } {
    const { k: kCache, v: vCache } = state.tensors;
    const [b, d] = u.shape;
    if (!kCache || !vCache || kCache.shape[0] !== b) {
      throw new ShiftmixError(
        `softmax-attention: the decode state does not fit a batch of ${b} (it needs a KV cache "k", "v" of batch ${b})`,
        'Create the state with initState(batch) for the same batch size',
        'E_SHAPE',
      );
    }
    const window = this.config.window;
    const next = tf.tidy(() => {
      const [q, k, v] = this.project(u, b, 1, state.position); // [B, H, 1, hd]
      let keys = tf.concat([kCache, k], 2); // [B, H, S + 1, hd]
      let values = tf.concat([vCache, v], 2);
      const length = (keys.shape as number[])[2];
      if (window !== null && length > window) {
        keys = keys.slice([0, 0, length - window, 0], [b, this.heads, window, this.headDim]);
        values = values.slice([0, 0, length - window, 0], [b, this.heads, window, this.headDim]);
      }
      const attended = cachedAttention(q, keys, values).reshape([b, d]); // [B, D]
      const y = linear(attended, this.weights['out.weight'], this.weights['out.bias']) as Tensor2D;
      return { y, keys, values };
    });
    return { y: next.y, state: { position: state.position + 1, tensors: { k: next.keys, v: next.values } } };
  }

  toOnnx(graph: OnnxGraph, input: string, lowering: OnnxLowering): OnnxLowered {
    return lowerSoftmaxAttention(this, graph, input, lowering);
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
  }
}
