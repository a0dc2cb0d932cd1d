// The demo's line charts (the Train page's losses, the Decode page's cost per token): lines
// of (x, y) points, each drawn with its series' color and its kind's style (a CSS class).
// The geometry is a pure function of the points (tested without a DOM); draw() turns it
// into SVG.

export interface Line {
  /** The series it belongs to (a model): the legend and the tests find it by this. */
  label: string;
  color: string;
  /** Its style: 'train' thin, 'val' thick (train.css), or any class the page styles. */
  kind: string;
  points: [number, number][];
}

export interface ChartGeometry {
  /** One path per line, in drawing order. */
  paths: { label: string; color: string; kind: string; d: string; count: number }[];
  xTicks: { at: number; text: string }[];
  yTicks: { at: number; text: string }[];
}

export const WIDTH = 640;
export const HEIGHT = 320;
const PAD = { left: 44, right: 12, top: 10, bottom: 30 };

/** Round tick values covering [lo, hi]: about five, at 1, 2 or 5 times a power of ten. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function geometry(lines: Line[]): ChartGeometry {
  const finite = lines.map((l) => ({ ...l, points: l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const all = finite.flatMap((l) => l.points);
  const xMax = Math.max(1e-9, ...all.map(([x]) => x));
  const ys = all.map(([, y]) => y);
  const yLo = ys.length ? Math.min(...ys) : 0;
  const yHi = ys.length ? Math.max(...ys) : 1;
  const yPad = (yHi - yLo) * 0.05 || 0.5;
  const [y0, y1] = [Math.max(0, yLo - yPad), yHi + yPad];
  const px = (v: number) => PAD.left + (v / xMax) * (WIDTH - PAD.left - PAD.right);
  const py = (v: number) => HEIGHT - PAD.bottom - ((v - y0) / (y1 - y0)) * (HEIGHT - PAD.top - PAD.bottom);
  const paths = finite.map((l) => ({
    label: l.label,
    color: l.color,
    kind: l.kind,
    d: l.points.map(([a, b], i) => `${i ? 'L' : 'M'}${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(''),
    count: l.points.length,
  }));
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3))));
  return {
    paths,
    xTicks: ticks(0, xMax).map((v) => ({ at: px(v), text: fmt(v) })),
    yTicks: ticks(y0, y1).map((v) => ({ at: py(v), text: fmt(v) })),
  };
}

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws the lines into `svg` (its children replaced), `xLabel` under the x axis. */
export function draw(svg: SVGSVGElement, lines: Line[], xLabel: string): void {
  const g = geometry(lines);
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  const nodes: SVGElement[] = [];
  for (const t of g.yTicks) {
    nodes.push(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: t.at, y2: t.at, class: 'grid' }));
    nodes.push(el('text', { x: PAD.left - 6, y: t.at + 4, 'text-anchor': 'end' }, t.text));
  }
  for (const t of g.xTicks) nodes.push(el('text', { x: t.at, y: HEIGHT - PAD.bottom + 16, 'text-anchor': 'middle' }, t.text));
  nodes.push(el('text', { x: WIDTH - PAD.right, y: HEIGHT - 4, 'text-anchor': 'end' }, xLabel));
  for (const p of g.paths) {
    if (p.count === 0) continue;
    const path = el('path', { d: p.d, stroke: p.color, class: p.kind, fill: 'none' });
    path.dataset.label = p.label;
    path.dataset.kind = p.kind;
    path.dataset.points = String(p.count);
    nodes.push(path);
  }
  svg.replaceChildren(...nodes);
}
