/** Maps data values to pixels, linear or logarithmic, with ticks for the axis. */
export interface Scale {
  kind: 'linear' | 'log';
  /** Data domain after rounding out to ticks. */
  domain: [number, number];
  ticks: number[];
  map(value: number): number;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

function linearTicks(min: number, max: number, count: number): { domain: [number, number]; ticks: number[] } {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Rounding each tick to the step's precision avoids labels like 0.30000000000000004.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toFixed(digits)));
  return { domain: [lo, hi], ticks };
}

/**
 * Log ticks: powers of 10 when the data spans two decades or more, else powers of 2
 * (sequence lengths 256, 512, ... read better that way).
 */
function logTicks(min: number, max: number, binary: boolean): { domain: [number, number]; ticks: number[] } {
  if (binary) {
    // Bytes: powers of two, every `step`-th one so that at most about eight remain (64 KiB, 256 KiB, 1 MiB...).
    let lo = Math.floor(Math.log2(min) + 1e-9);
    let hi = Math.ceil(Math.log2(max) - 1e-9);
    const step = Math.max(1, Math.ceil((hi - lo) / 8));
    lo = Math.floor(lo / step) * step;
    hi = Math.max(lo + step, Math.ceil(hi / step) * step);
    const ticks: number[] = [];
    for (let k = lo; k <= hi; k += step) ticks.push(2 ** k);
    return { domain: [2 ** lo, 2 ** hi], ticks };
  }
  const base = max / min >= 100 ? 10 : 2;
  const log = (v: number) => Math.log(v) / Math.log(base);
  let lo = Math.floor(log(min) + 1e-9);
  let hi = Math.ceil(log(max) - 1e-9);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) ticks.push(base ** k);
  return { domain: [base ** lo, base ** hi], ticks };
}

/**
 * A scale over `values` onto the pixel range [from, to]; log scales ignore values <= 0.
 * With `binary`, log ticks fall on powers of two (for bytes).
 */
export function makeScale(kind: 'linear' | 'log', values: number[], from: number, to: number, tickCount = 6, binary = false): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (kind === 'linear' || v > 0));
  const min = finite.length ? Math.min(...finite) : kind === 'log' ? 1 : 0;
  const max = finite.length ? Math.max(...finite) : kind === 'log' ? 10 : 1;
  const { domain, ticks } = kind === 'log' ? logTicks(min, max, binary) : linearTicks(min, max, tickCount);
  const t = kind === 'log' ? Math.log : (v: number) => v;
  const [d0, d1] = [t(domain[0]), t(domain[1])];
  return {
    kind,
    domain,
    ticks,
    map: (value) => from + ((t(value) - d0) / (d1 - d0)) * (to - from),
  };
}

/** Short tick labels: 0.001, 2.5, 32k, 1.5M; with `bytes`, KiB/MiB/GiB. */
export function formatTick(value: number, unit: 'number' | 'bytes' = 'number'): string {
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = value;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${Number(v.toPrecision(3))} ${units[i]}`;
  }
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs !== 0 && abs < 1e-3) return value.toExponential(0);
  return String(Number(value.toPrecision(4)));
}
