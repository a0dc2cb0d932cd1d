import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';

describe('parseBenchArgs', () => {
  it('defaults to the default suite, quick preset, auto backend', () => {
    expect(parseBenchArgs([])).toMatchObject({ suite: 'default', preset: 'quick', backend: 'auto', only: [], models: [], plugins: [], json: false });
  });

  it('splits and repeats lists, keeps plugins in order', () => {
    const a = parseBenchArgs(['--only', 'lm-char,mqar', '--only', 'decode', '--models', 'gpt', '--plugin', './a.js', '--plugin', 'pkg', '--json']);
    expect(a.only).toEqual(['lm-char', 'mqar', 'decode']);
    expect(a.models).toEqual(['gpt']);
    expect(a.plugins).toEqual(['./a.js', 'pkg']);
    expect(a.json).toBe(true);
  });

  it('rejects unknown flags and backends with a fix', () => {
    expect(() => parseBenchArgs(['--presets', 'quick'])).toThrow(/--help/);
    expect(() => parseBenchArgs(['--backend', 'cuda'])).toThrow(/unknown backend "cuda".*wasm/);
  });
});
