import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, writeTar } from './tar.js';

// The page's tar writer against the system's tar (GNU or bsdtar): what the page downloads
// must unpack with the tool a user has, and what that tool writes must open in the page.

const work = mkdtempSync(join(tmpdir(), 'shiftmix-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tar(args: string[], cwd: string): string {
  const run = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tar ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('tar', () => {
  it('writes archives the system tar unpacks: folders, files of every size around a block, a long path', () => {
    const long = `run/${'deep-folder-name/'.repeat(8)}weights.safetensors`;
    expect(long.length).toBeGreaterThan(100);
    const entries = [
      { path: 'run/' },
      { path: 'run/last/' },
      { path: 'run/last/empty.json', bytes: new Uint8Array(0) },
      { path: 'run/last/config.json', bytes: new TextEncoder().encode('{"format":"shiftmix-checkpoint"}\n') },
      { path: 'run/last/block.bin', bytes: bytes(512, 1) },
      { path: 'run/last/over.bin', bytes: bytes(513, 2) },
      { path: 'run/last/big.bin', bytes: bytes(70_001, 3) },
      { path: long, bytes: bytes(1000, 4) },
    ];
    const archive = writeTar(entries, 1_700_000_000);
    expect(archive.length % 512).toBe(0);
    const file = join(work, 'a.tar');
    writeFileSync(file, archive);
    const listed = tar(['-tvf', file], work);
    expect(listed).toMatch(/^drwxr-xr-x .* run\/$/m);
    expect(listed).toMatch(/^-rw-r--r-- .* 70001 .* run\/last\/big\.bin$/m);
    const out = join(work, 'out');
    mkdirSync(out);
    tar(['-xf', file], out);
    for (const entry of entries.filter((e) => e.bytes)) {
      expect(Buffer.from(readFileSync(join(out, entry.path))).equals(Buffer.from(entry.bytes!)), entry.path).toBe(true);
    }
    expect(statSync(join(out, 'run/last/big.bin')).mtimeMs).toBe(1_700_000_000_000);
    // And it reads back here, files only.
    const read = readTar(archive);
    expect([...read.keys()]).toEqual(entries.filter((e) => e.bytes).map((e) => e.path));
    expect(Buffer.from(read.get(long)!).equals(Buffer.from(entries.at(-1)!.bytes!))).toBe(true);
  });

  it("reads the system tar's ustar archives, and refuses what is not a tar", () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'run', 'last'), { recursive: true });
    writeFileSync(join(src, 'run', 'last', 'state.json'), '{"step": 3}\n');
    writeFileSync(join(src, 'run', 'last', 'weights.safetensors'), bytes(3000, 5));
    tar(['--format=ustar', '-cf', join(work, 'b.tar'), 'run'], src);
    const read = readTar(new Uint8Array(readFileSync(join(work, 'b.tar'))));
    expect(new TextDecoder().decode(read.get('run/last/state.json'))).toBe('{"step": 3}\n');
    expect(Buffer.from(read.get('run/last/weights.safetensors')!).equals(Buffer.from(bytes(3000, 5)))).toBe(true);
    expect([...read.keys()].sort()).toEqual(['run/last/state.json', 'run/last/weights.safetensors']);

    expect(() => readTar(new TextEncoder().encode('not a tar '.repeat(100)))).toThrow(/not a tar header/);
    const cut = writeTar([{ path: 'a.bin', bytes: bytes(2000, 6) }]).subarray(0, 1024);
    expect(() => readTar(cut)).toThrow(/a\.bin is cut short/);
    expect(() => writeTar([{ path: 'caf\u00e9.txt', bytes: new Uint8Array(1) }])).toThrow(/not plain ASCII/);
    expect(() => writeTar([{ path: 'x'.repeat(101), bytes: new Uint8Array(1) }])).toThrow(/too long/);
  });
});
