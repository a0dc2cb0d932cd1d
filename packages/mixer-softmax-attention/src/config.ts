import { ShiftmixError, type MixerContext } from '@shiftmix/core';

/** Options of the softmax-attention mixer as a user writes them. */
export interface SoftmaxAttentionConfig {
  /** Sliding window: position t sees t - window + 1 .. t. null or absent: full causal. */
  window?: number | null;
  /** Rotary position embedding on queries and keys (rotate-half convention). */
  rope: boolean;
  /** RoPE frequency base. */
  ropeBase: number;
  /** Dropout on the attention probabilities; absent: the model's dropout (ctx.dropout). */
  attentionDropout?: number;
}

/** A validated config: every option resolved. */
export interface ResolvedSoftmaxAttentionConfig extends SoftmaxAttentionConfig {
  window: number | null;
  attentionDropout: number;
}

export const softmaxAttentionDefaults: SoftmaxAttentionConfig = { window: null, rope: false, ropeBase: 10000 };

const KEYS = ['window', 'rope', 'ropeBase', 'attentionDropout'] as const;

function fail(problem: string, fix: string): never {
  throw new ShiftmixError(`softmax-attention: ${problem}`, fix, 'E_CONFIG');
}

// Head counts that divide dim, to suggest in an error.
function divisors(n: number): number[] {
  const found: number[] = [];
  for (let d = 1; d <= n && found.length < 8; d++) if (n % d === 0) found.push(d);
  return found;
}

function checkHeads(ctx: MixerContext): number {
  const { dim, heads } = ctx;
  if (!Number.isInteger(heads) || heads < 1) {
    fail(`heads must be a positive integer, got ${heads}`, `Set heads to a divisor of dim ${dim}, e.g. ${divisors(dim).join(', ')}`);
  }
  if (dim % heads !== 0) {
    fail(
      `dim ${dim} is not divisible by heads ${heads}`,
      `Use a number of heads that divides ${dim} (${divisors(dim).join(', ')}, ...), or make dim a multiple of ${heads}`,
    );
  }
  return dim / heads;
}

/** Fills in defaults and checks every option against the model it goes into. */
export function validateSoftmaxAttention(config: unknown, ctx: MixerContext): ResolvedSoftmaxAttentionConfig {
  if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    fail(`config must be an object, got ${JSON.stringify(config)}`, `Pass an object with some of ${KEYS.join(', ')}`);
  }
  const given = (config ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !(KEYS as readonly string[]).includes(key));
  if (unknown.length) {
    fail(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`, `Known options: ${KEYS.join(', ')}`);
  }
  const { window = null, rope = softmaxAttentionDefaults.rope, ropeBase = softmaxAttentionDefaults.ropeBase } = given;
  const attentionDropout = given.attentionDropout ?? ctx.dropout;
  const headDim = checkHeads(ctx);

  if (window !== null && (typeof window !== 'number' || !Number.isInteger(window) || window < 1)) {
    fail(
      `window must be an integer >= 1, got ${JSON.stringify(window)}`,
      'Give the number of positions each token sees (itself included), or null for full causal attention',
    );
  }
  if (typeof rope !== 'boolean') fail(`rope must be true or false, got ${JSON.stringify(rope)}`, 'Set rope: true to rotate queries and keys by position');
  if (typeof ropeBase !== 'number' || !Number.isFinite(ropeBase) || ropeBase <= 1) {
    fail(`ropeBase must be a finite number > 1, got ${JSON.stringify(ropeBase)}`, 'Use the usual 10000, or leave it out');
  }
  if (rope && headDim % 2 !== 0) {
    fail(
      `rope needs an even head dimension, but dim ${ctx.dim} / heads ${ctx.heads} = ${headDim}`,
      'Choose heads so that dim / heads is even, or set rope: false',
    );
  }
  if (typeof attentionDropout !== 'number' || !(attentionDropout >= 0 && attentionDropout < 1)) {
    fail(`attentionDropout must be in [0, 1), got ${JSON.stringify(attentionDropout)}`, 'Use e.g. 0.1, or 0 for none');
  }
  return { window, rope, ropeBase, attentionDropout } as ResolvedSoftmaxAttentionConfig;
}

/** Fused qkv Linear(D, 3D) and output Linear(D, D), both with bias: 4 D^2 + 4 D. */
export function softmaxAttentionParamCount(ctx: MixerContext): number {
  return 4 * ctx.dim * ctx.dim + 4 * ctx.dim;
}
