import { ShiftmixError } from '../errors.js';

// Bits per byte: a loss in nats per token means little across tokenizers (a GPT-2 token
// is about four characters), so every loss is also given per byte of UTF-8 text:
// nats / ln 2 / bytes per token. Computed only where the data knows its bytes per token.

/** A loss in nats per token as bits per byte of text. */
export function bitsPerByte(nats: number, bytesPerToken: number): number {
  return nats / Math.LN2 / bytesPerToken;
}

/** Checks a dataset's bytesPerToken: a positive finite number, or absent. */
export function checkBytesPerToken(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ShiftmixError(
      `the data's bytesPerToken ${JSON.stringify(value)} is not a positive number`,
      'Set it to the UTF-8 bytes of the text over its token count, or leave it unset',
      'E_DATA',
    );
  }
  return value;
}

const finiteOr = (value: number | undefined): number | undefined => (value !== undefined && Number.isFinite(value) ? value : undefined);

/** The bits-per-byte fields of the trainer's records, all empty where bytes per token is unknown. */
export function bitsPerByteOf(bytesPerToken: unknown) {
  const bpt = checkBytesPerToken(bytesPerToken);
  const of = (nats: number | undefined) => (bpt === undefined || nats === undefined ? undefined : finiteOr(bitsPerByte(nats, bpt)));
  return {
    /** metrics.jsonl's trainBpb and valBpb (null off evaluation steps, as valLoss). */
    record(train: number, val: number | null): { trainBpb?: number; valBpb?: number | null } {
      if (bpt === undefined) return {};
      return { trainBpb: of(train), valBpb: val === null ? null : (of(val) ?? null) };
    },
    progress(train: number, val: number | undefined, bestVal: number | undefined): { trainBpb?: number; valBpb?: number; bestValBpb?: number } {
      if (bpt === undefined) return {};
      return { trainBpb: of(train), valBpb: of(val), bestValBpb: of(bestVal) };
    },
    summary(train: number, val: number, bestVal: number): { trainBpb?: number; valBpb?: number; bestValBpb?: number; bytesPerToken?: number } {
      if (bpt === undefined) return {};
      return { trainBpb: of(train), valBpb: of(val), bestValBpb: of(bestVal), bytesPerToken: bpt };
    },
  };
}
