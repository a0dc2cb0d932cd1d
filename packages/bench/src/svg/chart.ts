import { formatTick, makeScale } from './scale.js';

export interface ChartSeries {
  name: string;
  /** [x, y] pairs; points with a non-finite coordinate (or <= 0 on a log axis) are skipped. */
  points: [number, number][];
  /** Dashed line, e.g. to tell forward from forward+backward of the same model. */
  dashed?: boolean;
  /** Colour index; series sharing one keep the same colour. Default: the series' position. */
  colour?: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  xScale?: 'linear' | 'log';
  yScale?: 'linear' | 'log';
  /** How y tick labels are written. */
  yUnit?: 'number' | 'bytes';
  width?: number;
  height?: number;
}

// Colour-blind-friendly palette (Okabe-Ito, plus greys), one colour per series.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000', '#999999'];

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const r = (v: number) => Math.round(v * 10) / 10;

/** A standalone SVG line chart with title, axis labels, ticks, grid and legend. */
export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 800;
  const height = o.height ?? 440;
  // Wide enough for the longest series name at about 7.5 px per character of 12 px text.
  const legendWidth = Math.max(150, 56 + 7.5 * Math.max(0, ...o.series.map((s) => s.name.length)));
  const m = { left: 78, right: legendWidth + 16, top: 44, bottom: 58 };
  const xKind = o.xScale ?? 'linear';
  const yKind = o.yScale ?? 'linear';
  const keep = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (xKind === 'linear' || x > 0) && (yKind === 'linear' || y > 0);
  const series = o.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => keep(x, y)) }));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const x = makeScale(xKind, xs, m.left, width - m.right);
  const y = makeScale(yKind, ys, height - m.bottom, m.top, 6, o.yUnit === 'bytes');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${r((m.left + width - m.right) / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  out.push(`<g class="grid" stroke="#e5e5e5" stroke-width="1">`);
  for (const t of x.ticks) out.push(`<line x1="${r(x.map(t))}" y1="${m.top}" x2="${r(x.map(t))}" y2="${height - m.bottom}"/>`);
  for (const t of y.ticks) out.push(`<line x1="${m.left}" y1="${r(y.map(t))}" x2="${width - m.right}" y2="${r(y.map(t))}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#333333" stroke-width="1">`);
  out.push(`<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}"/>`);
  out.push('</g>');
  out.push(`<g class="x-ticks" data-scale="${xKind}" text-anchor="middle">`);
  for (const t of x.ticks) out.push(`<text x="${r(x.map(t))}" y="${height - m.bottom + 16}">${escapeXml(formatTick(t))}</text>`);
  out.push('</g>');
  out.push(`<g class="y-ticks" data-scale="${yKind}" text-anchor="end">`);
  for (const t of y.ticks) out.push(`<text x="${m.left - 6}" y="${r(y.map(t) + 4)}">${escapeXml(formatTick(t, o.yUnit))}</text>`);
  out.push('</g>');
  out.push(
    `<text class="x-label" x="${r((m.left + width - m.right) / 2)}" y="${height - 16}" text-anchor="middle">${escapeXml(o.xLabel + (xKind === 'log' ? ' (log scale)' : ''))}</text>`,
  );
  const yMid = r((m.top + height - m.bottom) / 2);
  out.push(
    `<text class="y-label" x="18" y="${yMid}" text-anchor="middle" transform="rotate(-90 18 ${yMid})">${escapeXml(o.yLabel + (yKind === 'log' ? ' (log scale)' : ''))}</text>`,
  );
  series.forEach((s, i) => {
    const colour = PALETTE[(s.colour ?? i) % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = s.points.map(([px, py]) => `${r(x.map(px))},${r(y.map(py))}`);
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    // Markers only on short series: a curve of hundreds of evaluations reads better bare.
    if (s.points.length <= 40) {
      for (const p of pts) {
        const [cx, cy] = p.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
      }
    }
    out.push('</g>');
  });
  out.push(`<g class="legend">`);
  series.forEach((s, i) => {
    const colour = PALETTE[(s.colour ?? i) % PALETTE.length];
    const ly = m.top + 8 + i * 20;
    const lx = width - legendWidth;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
