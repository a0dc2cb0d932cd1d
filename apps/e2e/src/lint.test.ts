import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAll, type Tarball } from './pack.js';
import { publishedPackages, removeTemporaries, ROOT } from './repo.js';
import { explain, run } from './run.js';

let tarballs: Tarball[] = [];
beforeAll(() => {
  tarballs = packAll();
});
afterAll(removeTemporaries);

const names = publishedPackages().map((p) => [p.name]);
const tarballOf = (name: string): Tarball => tarballs.find((t) => t.name === name)!;

describe.each(names)('the tarball of %s', (name) => {
  it('passes publint, suggestions included', async () => {
    const bytes = readFileSync(tarballOf(name).file);
    const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg, { color: false })}`)).toEqual([]);
  });

  it('resolves with types under node10, node16 (ESM and CJS) and bundler (arethetypeswrong)', () => {
    // ESM only by design: a require() of it from CommonJS is not a problem to report.
    const attw = path.join(ROOT, 'node_modules', '.bin', 'attw');
    const result = run(attw, [tarballOf(name).file, '--no-definitely-typed', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color'], {
      cwd: ROOT,
    });
    expect(result.code, explain(result)).toBe(0);
  });

  it('holds the license, the readme and the built entry, and no tests or sources', () => {
    const files = execFileSync('tar', ['-tzf', tarballOf(name).file], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(files).toEqual(
      expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts']),
    );
    expect(files.filter((f) => /\.test\.|\/src\/.*\.ts$/.test(f))).toEqual([]);
  });
});
