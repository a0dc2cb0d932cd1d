import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedPackages, ROOT } from './repo.js';

const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
const packages = publishedPackages();
const dependencyFields = ['dependencies', 'peerDependencies', 'devDependencies', 'optionalDependencies'] as const;

describe('the package.json of every published package', () => {
  it('covers the packages a user installs', () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@shiftmix/core', '@shiftmix/mixer-hsm-ab', '@shiftmix/bench', 'shiftmix']));
  });

  it.each(packages.map((p) => [p.name, p]))('%s has the license file, engines, repository and keywords', (_, p) => {
    expect(readFileSync(path.join(ROOT, p.dir, 'LICENSE'), 'utf8')).toBe(license);
    expect(p.pkg.license).toBe('MIT');
    expect(p.pkg.engines).toEqual(root.engines);
    expect(p.pkg.repository).toEqual({ type: 'git', url: (packages[0].pkg.repository as { url: string }).url, directory: p.dir });
    expect(p.pkg.keywords).toEqual(expect.arrayContaining(['shiftmix']));
    expect((p.pkg.keywords as string[]).length).toBeGreaterThanOrEqual(3);
  });

  it.each(packages.map((p) => [p.name, p]))('%s names its entry for every resolver: exports with types first, and top-level main and types', (_, p) => {
    const main = (p.pkg.exports as Record<string, Record<string, string>>)['.'];
    expect(Object.keys(main)[0]).toBe('types');
    expect(p.pkg.types).toBe(main.types);
    expect(p.pkg.main).toBe(main.import);
    expect(p.pkg.type).toBe('module');
  });

  it.each(packages.map((p) => [p.name, p]))('%s takes @shiftmix/core as a peer (one registry, one tfjs engine), unless it is the CLI', (_, p) => {
    const uses = dependencyFields.some((field) => (p.pkg[field] as Record<string, string> | undefined)?.['@shiftmix/core']);
    if (!uses || p.name === '@shiftmix/core') return;
    const field = (name: (typeof dependencyFields)[number]) => (p.pkg[name] as Record<string, string> | undefined)?.['@shiftmix/core'];
    if (p.name === 'shiftmix') {
      // The command is the application: it brings core, and its plugins' peer resolves to that copy.
      expect(field('dependencies')).toBeDefined();
      return;
    }
    expect(field('dependencies')).toBeUndefined();
    expect(field('peerDependencies')).toBe('>=0.1.0 <1.0.0');
    expect(field('devDependencies')).toBeDefined();
  });

  it('ships the command as a file that exists before the build, so npm links it in a fresh clone', () => {
    const cli = packages.find((p) => p.name === 'shiftmix')!;
    const bin = (cli.pkg.bin as Record<string, string>).shiftmix;
    expect(bin).not.toMatch(/^\.?\/?dist\//);
    expect(existsSync(path.join(ROOT, cli.dir, bin))).toBe(true);
  });
});
