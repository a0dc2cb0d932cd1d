import { describe, expect, it } from 'vitest';
import { escapeXml, lineChart } from './chart.js';
import { formatTick, makeScale } from './scale.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A strict little XML parser: throws on anything not well-formed (the reference the writer is checked against). */
function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  const checkText = (text: string) => {
    if (/<|&(?!(amp|lt|gt|quot|apos);)/.test(text)) fail('bad character data');
    return text
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z][\w:-]*)/.exec(source.slice(i)) ?? fail('expected a tag');
    i += open[0].length;
    const el: XmlElement = { name: open[1], attrs: {}, children: [], text: '' };
    for (;;) {
      const attr = /^\s+([A-Za-z][\w:-]*)="([^"]*)"/.exec(source.slice(i));
      if (!attr) break;
      if (attr[1] in el.attrs) fail('duplicate attribute');
      el.attrs[attr[1]] = checkText(attr[2]);
      i += attr[0].length;
    }
    const end = /^\s*(\/?)>/.exec(source.slice(i)) ?? fail('unterminated tag');
    i += end[0].length;
    if (end[1]) return el;
    for (;;) {
      const next = source.indexOf('<', i);
      if (next < 0) fail('missing close tag');
      el.text += checkText(source.slice(i, next));
      i = next;
      if (source.startsWith('</', i)) {
        const close = /^<\/([A-Za-z][\w:-]*)\s*>/.exec(source.slice(i)) ?? fail('bad close tag');
        if (close[1] !== el.name) fail(`</${close[1]}> closes <${el.name}>`);
        i += close[0].length;
        return el;
      }
      el.children.push(element());
    }
  };
  const root = element();
  if (source.slice(i).trim() !== '') fail('content after the root element');
  return root;
}

const all = (el: XmlElement): XmlElement[] => [el, ...el.children.flatMap(all)];
const byClass = (root: XmlElement, cls: string) => all(root).find((e) => e.attrs.class === cls)!;

describe('lineChart', () => {
  const chart = lineChart({
    title: 'time <per> layer & "T"',
    xLabel: 'sequence length T',
    yLabel: 'time (ms)',
    xScale: 'log',
    yScale: 'log',
    series: [
      {
        name: 'hsm-ab',
        points: [
          [256, 1],
          [512, 2],
          [1024, 4],
          [2048, 8],
        ],
      },
      {
        name: 'softmax-attention',
        points: [
          [256, 2],
          [512, 8],
          [1024, 32],
          [2048, 128],
          [4096, 0],
        ],
        dashed: true,
      },
    ],
  });
  const root = parseXml(chart);

  it('is well-formed SVG with escaped title and labelled axes', () => {
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const texts = all(root)
      .filter((e) => e.name === 'text')
      .map((e) => e.text);
    expect(texts).toContain('time <per> layer & "T"');
    expect(byClass(root, 'x-label').text).toBe('sequence length T (log scale)');
    expect(byClass(root, 'y-label').text).toBe('time (ms) (log scale)');
  });

  it('draws one line per series and names each in the legend', () => {
    const series = all(root).filter((e) => e.attrs.class === 'series');
    expect(series.map((s) => s.attrs['data-name'])).toEqual(['hsm-ab', 'softmax-attention']);
    const legend = byClass(root, 'legend')
      .children.filter((e) => e.name === 'text')
      .map((e) => e.text);
    expect(legend).toEqual(['hsm-ab', 'softmax-attention']);
    expect(series[1].children[0].attrs['stroke-dasharray']).toBeDefined();
  });

  it('puts points on log axes: equal ratios are equal distances, zeros are dropped', () => {
    const points = (s: XmlElement) =>
      s.children
        .find((e) => e.name === 'polyline')!
        .attrs.points.split(' ')
        .map((p) => p.split(',').map(Number));
    const [a, b] = all(root)
      .filter((e) => e.attrs.class === 'series')
      .map(points);
    expect(b).toHaveLength(4);
    const dx = a.slice(1).map((p, k) => p[0] - a[k][0]);
    for (const d of dx) expect(d).toBeCloseTo(dx[0], 0);
    // y doubles in series a and quadruples in b: twice the pixel step, upwards.
    const dyA = a[1][1] - a[0][1];
    const dyB = b[1][1] - b[0][1];
    expect(dyA).toBeLessThan(0);
    expect(dyB / dyA).toBeCloseTo(2, 1);
    expect(byClass(root, 'x-ticks').attrs['data-scale']).toBe('log');
    const xTicks = byClass(root, 'x-ticks').children.map((e) => e.text);
    expect(xTicks).toEqual(['256', '512', '1024', '2048']);
  });

  it('handles empty and single-point series', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'a', points: [] },
        { name: 'b', points: [[1, 1]] },
      ],
    });
    expect(() => parseXml(svg)).not.toThrow();
    expect(svg).not.toContain('NaN');
  });
});

describe('scales and ticks', () => {
  it('uses decades on a log axis spanning two or more of them', () => {
    expect(makeScale('log', [3, 2000], 0, 100).ticks).toEqual([1, 10, 100, 1000, 10000]);
  });

  it('picks round linear ticks covering the data', () => {
    const s = makeScale('linear', [0.13, 0.92], 0, 100);
    expect(s.domain[0]).toBeLessThanOrEqual(0.13);
    expect(s.domain[1]).toBeGreaterThanOrEqual(0.92);
    for (const t of s.ticks) expect(Number(t.toFixed(6))).toBe(t);
    expect(s.map(s.domain[0])).toBe(0);
    expect(s.map(s.domain[1])).toBe(100);
  });

  it('writes bytes and large numbers compactly, and escapes XML', () => {
    expect(formatTick(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatTick(32768)).toBe('32.8k');
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});

describe('byte axes', () => {
  it('puts log ticks on powers of two and labels them in KiB and MiB', () => {
    const s = makeScale('log', [90_000, 1_000_000_000], 0, 100, 6, true);
    for (const t of s.ticks) expect(Math.log2(t) % 1).toBe(0);
    expect(s.ticks.length).toBeLessThanOrEqual(9);
    expect(s.domain[0]).toBeLessThanOrEqual(90_000);
    expect(s.domain[1]).toBeGreaterThanOrEqual(1e9);
    expect(s.ticks.map((t) => formatTick(t, 'bytes'))).toContain('1 MiB');
  });
});
