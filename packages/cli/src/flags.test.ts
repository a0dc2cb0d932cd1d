import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { closest, kebab, levenshtein, parseFlags, type FlagSpecs } from './flags.js';

const specs = {
  data: { type: 'string', required: true, placeholder: 'FILE', description: 'text file' },
  dim: { type: 'number', integer: true, min: 1, default: 128, description: 'width' },
  lr: { type: 'number', min: 0, exclusiveMin: true, default: 1e-3, description: 'learning rate' },
  minLr: { type: 'number', description: 'floor' },
  backend: { type: 'choice', choices: ['auto', 'cpu', 'wasm'], default: 'auto', description: 'backend' },
  json: { type: 'boolean', description: 'json' },
  plugin: { type: 'list', description: 'plugins' },
} as const satisfies FlagSpecs;

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseFlags', () => {
  it('reads --flag value, --flag=value, switches, repeats and defaults', () => {
    const { flags, positionals } = parseFlags(
      ['--data', 'a.txt', '--dim=64', '--json', '--plugin', 'x', '--plugin=y', '--min-lr', '-0.5', 'rest'],
      specs,
      'train',
    );
    expect(flags).toEqual({ data: 'a.txt', dim: 64, lr: 1e-3, minLr: -0.5, backend: 'auto', json: true, plugin: ['x', 'y'] });
    expect(positionals).toEqual(['rest']);
  });

  it('takes switches as --json=false and stops at --', () => {
    const { flags, positionals } = parseFlags(['--data', 'a', '--json=false', '--', '--dim', '3'], specs, 'train');
    expect(flags.json).toBe(false);
    expect(flags.dim).toBe(128);
    expect(positionals).toEqual(['--dim', '3']);
  });

  it('rejects non-numeric, fractional and out-of-range numbers with the flag name', () => {
    expect(usageError(() => parseFlags(['--data', 'a', '--dim', 'abc'], specs, 'train')).problem).toBe('--dim must be an integer, got "abc"');
    expect(usageError(() => parseFlags(['--data', 'a', '--dim', '1.5'], specs, 'train')).problem).toContain('integer');
    expect(usageError(() => parseFlags(['--data', 'a', '--dim', '0'], specs, 'train')).problem).toContain('at least 1');
    expect(usageError(() => parseFlags(['--data', 'a', '--lr', '0'], specs, 'train')).problem).toContain('greater than 0');
    expect(usageError(() => parseFlags(['--data', 'a', '--lr='], specs, 'train')).problem).toContain('must be a number');
    // Only decimal: Number() would read these as 16, 3, 8 and Infinity.
    for (const raw of ['0x10', '0b11', '0o10', 'Infinity', '1e400', ' ']) {
      expect(usageError(() => parseFlags(['--data', 'a', '--lr', raw], specs, 'train')).problem, raw).toMatch(/--lr must be a number/);
    }
    expect(parseFlags(['--data', 'a', '--lr', '.5e-3', '--dim', '1e3'], specs, 'train').flags).toMatchObject({ lr: 5e-4, dim: 1000 });
    expect(usageError(() => parseFlags(['--data', 'a', '--dim', '9007199254740993'], specs, 'train')).problem).toMatch(/past the largest exact integer/);
  });

  it('suggests the closest flag for an unknown one', () => {
    const error = usageError(() => parseFlags(['--data', 'a', '--dimm', '3'], specs, 'train'));
    expect(error.problem).toBe('unknown flag --dimm for "shiftmix train"');
    expect(error.fix).toContain('Did you mean --dim?');
    expect(usageError(() => parseFlags(['--min-lrr', '1'], specs, 'train')).fix).toContain('--min-lr');
    expect(usageError(() => parseFlags(['--zzzzzzzz'], specs, 'train')).fix).not.toContain('Did you mean');
  });

  it('rejects a missing value, a missing required flag, a bad choice and single-dash flags', () => {
    expect(usageError(() => parseFlags(['--data'], specs, 'train')).problem).toBe('--data needs a value');
    expect(usageError(() => parseFlags(['--data', '--json'], specs, 'train')).problem).toBe('--data needs a value');
    expect(usageError(() => parseFlags([], specs, 'train')).problem).toContain('needs --data');
    const choice = usageError(() => parseFlags(['--data', 'a', '--backend', 'cpuu'], specs, 'train'));
    expect(choice.problem).toContain('one of auto, cpu, wasm');
    expect(choice.fix).toContain('--backend cpu');
    expect(usageError(() => parseFlags(['-d', 'a'], specs, 'train')).problem).toContain('"-d"');
    expect(usageError(() => parseFlags(['--data', 'a', '--json=maybe'], specs, 'train')).problem).toContain('switch');
  });
});

describe('suggestions', () => {
  it('computes edit distance like the textbook recurrence', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
  });

  it('suggests near words and prefixes, not distant ones', () => {
    expect(closest('trian', ['train', 'resume', 'eval'])).toBe('train');
    expect(closest('gen', ['generate', 'export'])).toBe('generate');
    expect(closest('bananas', ['train', 'eval'])).toBeUndefined();
  });

  it('spells camelCase keys as kebab-case flags', () => {
    expect(kebab('evalBatches')).toBe('eval-batches');
    expect(kebab('dim')).toBe('dim');
  });
});
