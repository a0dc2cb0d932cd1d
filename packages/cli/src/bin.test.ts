import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './test-helpers.js';

// The command as package.json declares it: bin/shiftmix.js, which loads the build in
// dist/ (the test pipeline builds first).
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(PACKAGE, (JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: { shiftmix: string } }).bin.shiftmix);

function spawnBin(args: string[], cwd: string, bin = BIN): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(path.join(PACKAGE, 'dist/bin.js')))
    throw new Error('dist/bin.js is missing: build the package first (npx turbo run build --filter=shiftmix...)');
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the shiftmix executable', () => {
  it('exits 0 with the version and the command list', () => {
    const cwd = tempDir();
    expect(spawnBin(['--version'], cwd)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const help = spawnBin(['--help'], cwd);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: shiftmix <command>');
  });

  it('lists the built-in mixers as JSON', () => {
    const result = spawnBin(['mixers', '--json'], tempDir());
    expect(result.status, result.stderr).toBe(0);
    const names = (JSON.parse(result.stdout) as { mixers: { name: string }[] }).mixers.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['hsm-ab', 'learned-fusion', 'softmax-attention']));
  });

  it('exits 2 on a usage error and 1 on bad input, with one line on stderr and no stack', () => {
    const cwd = tempDir({ 'throws.mjs': "throw new Error('plugin exploded');\n" });
    const cases: [string[], number, RegExp][] = [
      [['trian'], 2, /unknown command "trian"/],
      [['mixers', '--jsn'], 2, /Did you mean --json\?/],
      [['mixers', '--plugin', './throws.mjs'], 1, /plugin "\.\/throws\.mjs" failed to load: plugin exploded/],
      [['train', '--data', 'none.txt', '--layers', 'hsm-ab', '--out', 'r'], 1, /--data none\.txt: no such file/],
    ];
    for (const [args, status, pattern] of cases) {
      const result = spawnBin(args, cwd);
      expect(result.status, args.join(' ')).toBe(status);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  });

  it('says to build first when the command is linked before the build (a fresh clone)', () => {
    const unbuilt = tempDir({ 'package.json': '{"type": "module"}', 'bin/shiftmix.js': readFileSync(BIN, 'utf8') });
    const result = spawnBin(['--help'], unbuilt, path.join(unbuilt, 'bin', 'shiftmix.js'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^shiftmix: .*dist\/bin\.js is not built\. Run npm run build \(or npm start\)/);
  });
});
