import { computeShiftSchedule, createWeightInit, listMixers, Rng, type AnyMixerSpec, type MixerContext } from '@shiftmix/core';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { InputError } from '../errors.js';
import { loadAllPlugins } from '../plugins.js';

/** Nominal stack the parameter counts are taken in: one layer of a 6-layer model. */
const NOMINAL_LAYERS = 6;

export interface MixerRow {
  name: string;
  /** Package or module the mixer came from. */
  package: string | null;
  shiftBased: boolean;
  /** Parameters of one layer of this mixer at the given width (its default options). */
  params: number;
  description: string;
}

function contextFor(spec: AnyMixerSpec, dim: number, heads: number, contextLength: number): MixerContext {
  const shifts = spec.shiftBased ? computeShiftSchedule('radix', NOMINAL_LAYERS, contextLength, dim).shifts[0] : [];
  return {
    dim,
    heads,
    contextLength,
    layerIndex: 0,
    numLayers: NOMINAL_LAYERS,
    shifts,
    dropout: 0,
    init: createWeightInit(new Rng(1), NOMINAL_LAYERS),
    rng: new Rng(1),
  };
}

export function mixerRows(dim: number, heads: number, contextLength: number): MixerRow[] {
  return listMixers().map(({ spec, source }) => {
    const ctx = contextFor(spec, dim, heads, contextLength);
    let params: number;
    try {
      params = spec.paramCount(ctx, spec.validate(spec.defaults, ctx));
    } catch (error) {
      const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new InputError(`mixer "${spec.name}" cannot be sized at --dim ${dim} --heads ${heads}: ${detail}`, 'Pick a --dim divisible by --heads');
    }
    return { name: spec.name, package: source ?? null, shiftBased: spec.shiftBased, params, description: spec.description };
  });
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatTable(rows: MixerRow[], dim: number): string {
  const header = ['NAME', 'PACKAGE', 'SHIFT', `PARAMS@D=${dim}`, 'DESCRIPTION'];
  const cells = rows.map((r) => [r.name, r.package ?? '-', r.shiftBased ? 'yes' : 'no', r.params.toLocaleString('en-US'), truncate(r.description, 60)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c.map((cell, i) => (i === c.length - 1 ? cell : i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return `${[header, ...cells].map(line).join('\n')}\n`;
}

export const mixersCommand = defineCommand({
  name: 'mixers',
  summary: 'List the registered mixers: name, package, whether shift-based, parameters per layer',
  usage: 'mixers [--json] [--dim N] [--plugin MODULE]',
  details: 'Parameter counts are for one layer with the mixer\'s default options at width --dim.',
  flags: {
    json: { type: 'boolean', description: 'Print one JSON object instead of a table' },
    dim: { type: 'number', integer: true, min: 1, default: 384, placeholder: 'N', description: 'Model width the parameter counts are taken at' },
    heads: { type: 'number', integer: true, min: 1, default: 6, placeholder: 'N', description: 'Attention heads (for mixers that have heads)' },
    ctx: { type: 'number', integer: true, min: 1, default: 256, placeholder: 'N', description: 'Context length' },
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix mixers', 'shiftmix mixers --dim 128 --json', 'shiftmix mixers --plugin ./my-mixer.js'],
  async run(flags, { io }) {
    await loadAllPlugins(io.cwd, flags.plugin);
    const rows = mixerRows(flags.dim, flags.heads, flags.ctx);
    if (flags.json) {
      io.stdout(`${JSON.stringify({ dim: flags.dim, heads: flags.heads, contextLength: flags.ctx, mixers: rows })}\n`);
    } else {
      io.stdout(formatTable(rows, flags.dim));
    }
  },
});
