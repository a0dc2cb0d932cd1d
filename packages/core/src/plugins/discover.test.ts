import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isShiftmixError } from '../errors.js';
import { hasMixer, unregisterMixer } from '../registry.js';
import { CONFIG_FILE, discoverMixers, readConfigPlugins } from './discover.js';

const dir = mkdtempSync(join(tmpdir(), 'core-discover-'));
const names = ['via-installed', 'via-config', 'via-flag', 'hsm-ab'];
afterAll(() => {
  for (const name of names) unregisterMixer(name);
  rmSync(dir, { recursive: true, force: true });
});

const spec = (name: string) =>
  `export const spec = { specificationVersion: 1, name: '${name}', shiftBased: false, defaults: {}, validate: () => ({}), paramCount: () => 0, create: () => null };\n`;

function write(files: Record<string, string>, root = dir): string {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('discoverMixers', () => {
  it('registers shipped, installed, config and named plugins in that order, and only warns about a broken installed package', async () => {
    write({
      'node_modules/installed-mixer/package.json': JSON.stringify({ name: 'installed-mixer', type: 'module', shiftmix: { mixer: './dist/index.js' } }),
      'node_modules/installed-mixer/dist/index.js': spec('via-installed'),
      'node_modules/broken-mixer/package.json': JSON.stringify({ name: 'broken-mixer', shiftmix: { mixer: './missing.js' } }),
      'config.mjs': spec('via-config'),
      'flag.mjs': spec('via-flag'),
      [CONFIG_FILE]: JSON.stringify({ plugins: ['./config.mjs'] }),
    });
    const imported: string[] = [];
    const warnings: string[] = [];
    const loaded = await discoverMixers({
      cwd: dir,
      plugins: ['./flag.mjs'],
      onWarning: (message) => warnings.push(message),
      importPackage: async (name) => {
        imported.push(name);
        if (name === '@shiftmix/mixer-hsm-ab') {
          return {
            spec: { specificationVersion: 1, name: 'hsm-ab', shiftBased: true, defaults: {}, validate: () => ({}), paramCount: () => 0, create: () => null },
          };
        }
        throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
      },
    });
    expect(imported).toContain('@shiftmix/mixer-hsm-ab');
    expect(loaded.map((m) => [m.via, m.mixers])).toEqual([
      ['builtin', ['hsm-ab']],
      ['installed', ['via-installed']],
      ['config', ['via-config']],
      ['flag', ['via-flag']],
    ]);
    expect(loaded[3].file).toBe(join(dir, 'flag.mjs'));
    for (const name of names) expect(hasMixer(name), name).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /installed package "broken-mixer" declares .*missing\.js, which does not exist, so its mixers are not loaded\. Build or reinstall broken-mixer/,
    );
  });

  it('fails on a named plugin that does not load, naming it', async () => {
    await expect(discoverMixers({ cwd: dir, plugins: ['./absent.mjs'], onWarning: () => {} })).rejects.toThrow(/plugin "\.\/absent\.mjs" not found/);
  });
});

describe('readConfigPlugins', () => {
  it('gives [] without a config file or without a plugins field', () => {
    expect(readConfigPlugins(mkdtempSync(join(dir, 'empty-')))).toEqual([]);
    expect(readConfigPlugins(write({ [CONFIG_FILE]: '{}' }, mkdtempSync(join(dir, 'none-'))))).toEqual([]);
  });

  it('rejects a file that is not JSON, or plugins that are not a list of strings, with E_CONFIG and the fix', () => {
    for (const [text, problem] of [
      ['{ plugins: [', /shiftmix\.config\.json is not valid JSON/],
      ['{"plugins": "./x.js"}', /"plugins" in shiftmix\.config\.json must be a list/],
      ['{"plugins": [1]}', /must be a list of module paths or package names/],
    ] as const) {
      const cwd = write({ [CONFIG_FILE]: text }, mkdtempSync(join(dir, 'bad-')));
      let caught: unknown;
      try {
        readConfigPlugins(cwd);
      } catch (error) {
        caught = error;
      }
      expect(isShiftmixError(caught) && caught.code, text).toBe('E_CONFIG');
      expect((caught as Error).message).toMatch(problem);
      expect((caught as Error).message).toMatch(/"plugins": \[".\/my-mixer.js"/);
    }
  });
});
