import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultResultsRoot } from './runner.js';
import { shippedDir } from './shipped.js';
import { loadSuite } from './suite/load.js';
import { lmCharTask } from './tasks/lm-char.js';

// A folder outside any shiftmix checkout, as a user's project is.
const elsewhere = () => mkdtempSync(join(tmpdir(), 'shiftmix-bench-user-'));

describe('what the package ships', () => {
  it('finds the default suite by name from any folder', () => {
    const suite = loadSuite('default', { cwd: elsewhere() });
    expect(suite.name).toBe('default');
    expect(suite.source).toBe(join(shippedDir('suites')!, 'default.json'));
  });

  it('prefers a suite of the same name in the project, then the shipped one', () => {
    const cwd = elsewhere();
    mkdirSync(join(cwd, 'benchmarks', 'suites'), { recursive: true });
    const own = { name: 'default', seed: 2, benchmarks: [{ name: 'mine', task: 'decode', models: { a: { layers: 'hsm-ab' } }, presets: { quick: {} } }] };
    writeFileSync(join(cwd, 'benchmarks', 'suites', 'default.json'), JSON.stringify(own));
    expect(loadSuite('default', { cwd }).benchmarks.map((b) => b.name)).toEqual(['mine']);
  });

  it('gives lm-char the shipped Tiny Shakespeare when the suite names no data', () => {
    const lm = loadSuite('default', { cwd: elsewhere() }).benchmarks.find((b) => b.task === 'lm-char')!;
    const file = lmCharTask.dataFile!(lm, elsewhere());
    expect(readFileSync(file, 'utf8')).toHaveLength(1_115_394);
  });

  it('writes results under ./bench-results outside a checkout', () => {
    const cwd = elsewhere();
    expect(defaultResultsRoot(cwd)).toBe(join(cwd, 'bench-results'));
  });
});
