import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The repository's changesets: `changeset version` stops at one that names a package
// outside the workspace, so a typo there would only surface at release time.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function workspacePackages(): Set<string> {
  const names = new Set<string>();
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(path.join(root, group))) {
      const manifest = JSON.parse(readFileSync(path.join(root, group, dir, 'package.json'), 'utf8')) as { name: string };
      names.add(manifest.name);
    }
  }
  return names;
}

describe('changesets', () => {
  it('name only packages of the workspace, each with a bump type', () => {
    const known = workspacePackages();
    const files = readdirSync(path.join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(path.join(root, '.changeset', file), 'utf8');
      const front = /^---\n([\s\S]*?)\n---\n/.exec(text);
      expect(front, `${file} has no front matter`).not.toBeNull();
      for (const line of front![1].split('\n').filter(Boolean)) {
        const entry = /^"([^"]+)": (major|minor|patch)$/.exec(line);
        expect(entry, `${file}: "${line}" is not "package": major|minor|patch`).not.toBeNull();
        expect(known.has(entry![1]), `${file} names ${entry![1]}, which is not a workspace package`).toBe(true);
      }
    }
  });
});
