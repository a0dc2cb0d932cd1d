// Without Node imports, so the model (which runs in browsers too) can tell shipped mixers apart.

/** The mixers shiftmix ships, by name, with the package each comes from. */
export const SHIPPED_MIXERS = {
  'hsm-ab': '@shiftmix/mixer-hsm-ab',
  'learned-fusion': '@shiftmix/mixer-learned-fusion',
  'softmax-attention': '@shiftmix/mixer-softmax-attention',
} as const;

export type ShippedMixerName = keyof typeof SHIPPED_MIXERS;

/** Whether `name` is registered from the package shiftmix ships it in (a plugin may replace it). */
export function isShippedSource(name: string, source: string | undefined): boolean {
  return source !== undefined && (SHIPPED_MIXERS as Record<string, string>)[name] === source;
}
