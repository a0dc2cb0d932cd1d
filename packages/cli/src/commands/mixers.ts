import { computeShiftSchedule, createWeightInit, isShiftmixError, listMixers, Rng, type AnyMixerSpec, type MixerContext } from '@shiftmix/core';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { loadAllPlugins, warnOn } from '../plugins.js';

/** Nominal stack the parameter counts are taken in: one layer of a 6-layer model. */
const NOMINAL_LAYERS = 6;

export interface MixerRow {
  name: string;
  /** Package or module the mixer came from. */
  package: string | null;
  shiftBased: boolean;
  /** Parameters of one layer of this mixer at the given width (its default options); null when it cannot be sized there. */
  params: number | null;
  description: string;
  /** Why the mixer cannot be sized at this width, with the fix; absent when it can. */
  error?: string;
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

/** One row per registered mixer; a mixer that cannot be sized at this width gets its error instead of a count. */
export function mixerRows(dim: number, heads: number, contextLength: number): MixerRow[] {
  return listMixers().map(({ spec, source }) => {
    const row = { name: spec.name, package: source ?? null, shiftBased: spec.shiftBased, description: spec.description };
    try {
      const ctx = contextFor(spec, dim, heads, contextLength);
      return { ...row, params: spec.paramCount(ctx, spec.validate(spec.defaults, ctx)) };
    } catch (error) {
      const detail = isShiftmixError(error) ? `${error.problem}. ${error.fix}` : error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { ...row, params: null, error: detail };
    }
  });
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatTable(rows: MixerRow[], dim: number): string {
  const header = ['NAME', 'PACKAGE', 'SHIFT', `PARAMS@D=${dim}`, 'DESCRIPTION'];
  const cells = rows.map((r) => [
    r.name,
    r.package ?? '-',
    r.shiftBased ? 'yes' : 'no',
    r.params === null ? '-' : r.params.toLocaleString('en-US'),
    truncate(r.description, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c.map((cell, i) => (i === c.length - 1 ? cell : i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return `${[header, ...cells].map(line).join('\n')}\n`;
}

/** A mixer that cannot be sized keeps its row ("-"); why, and what to change, goes to stderr. */
function sizingWarnings(rows: MixerRow[], dim: number, heads: number): string {
  return rows
    .filter((r) => r.error)
    .map((r) => `shiftmix: warning: mixer "${r.name}" cannot be sized at --dim ${dim} --heads ${heads}: ${r.error}\n`)
    .join('');
}

export const mixersCommand = defineCommand({
  name: 'mixers',
  summary: 'List the registered mixers: name, package, whether shift-based, parameters per layer',
  usage: 'mixers [--json] [--dim N] [--plugin MODULE]',
  details: [
    "Parameter counts are for one layer with the mixer's default options at width --dim.",
    'A mixer that cannot be sized there (e.g. heads that do not divide --dim) shows "-" and a warning.',
  ].join('\n'),
  flags: {
    json: { type: 'boolean', description: 'Print one JSON object instead of a table' },
    dim: { type: 'number', integer: true, min: 1, default: 384, placeholder: 'N', description: 'Model width the parameter counts are taken at' },
    heads: {
      type: 'number',
      integer: true,
      min: 1,
      default: 4,
      placeholder: 'N',
      description: "Attention heads (for mixers that have heads; train's default too)",
    },
    ctx: { type: 'number', integer: true, min: 1, default: 256, placeholder: 'N', description: 'Context length' },
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix mixers', 'shiftmix mixers --dim 128 --json', 'shiftmix mixers --plugin ./my-mixer.js'],
  async run(flags, { io }) {
    await loadAllPlugins(io.cwd, flags.plugin, warnOn(io));
    const rows = mixerRows(flags.dim, flags.heads, flags.ctx);
    io.stderr(sizingWarnings(rows, flags.dim, flags.heads));
    if (flags.json) {
      io.stdout(`${JSON.stringify({ dim: flags.dim, heads: flags.heads, contextLength: flags.ctx, mixers: rows })}\n`);
    } else {
      io.stdout(formatTable(rows, flags.dim));
    }
  },
});
