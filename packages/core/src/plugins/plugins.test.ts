import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyMixerSpec } from '../contract.js';
import { getMixer, hasMixer, listMixers, registerMixer, unregisterMixer } from '../registry.js';
import { loadMixerPlugin, registerShippedMixers } from './load.js';
import { mixerSpecsOf, registerMixerModule } from './module.js';

function fakeSpec(name: string): AnyMixerSpec {
  return {
    specificationVersion: 1,
    name,
    description: name,
    shiftBased: false,
    defaults: {},
    validate: () => ({}),
    paramCount: () => 1,
    create: () => {
      throw new Error('unused');
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'core-plugins-'));
afterAll(() => {
  for (const name of ['plugin-cjs', 'plugin-file', 'plugin-pkg', 'registered-by-function', 'hsm-ab']) unregisterMixer(name);
  rmSync(dir, { recursive: true, force: true });
});

describe('mixerSpecsOf', () => {
  it('collects default, spec, specs and *Spec exports once each', () => {
    const [a, b, c] = [fakeSpec('collect-a'), fakeSpec('collect-b'), fakeSpec('collect-c')];
    expect(mixerSpecsOf({ default: a, aSpec: a, specs: [b], cSpec: c, other: fakeSpec('ignored') })).toEqual([a, b, c]);
    expect(mixerSpecsOf({ register: () => undefined })).toEqual([]);
  });

  it('reads a CommonJS module, whose exports arrive as one default object', () => {
    const spec = fakeSpec('collect-cjs');
    expect(mixerSpecsOf({ default: { spec } })).toEqual([spec]);
  });
});

describe('registerMixerModule', () => {
  it('registers exported specs with the module as their source', async () => {
    expect(await registerMixerModule({ default: { cjsSpec: fakeSpec('plugin-cjs') } }, 'cjs-plugin')).toEqual(['plugin-cjs']);
    expect(listMixers().find((m) => m.spec.name === 'plugin-cjs')?.source).toBe('cjs-plugin');
  });

  it('calls a register() export and records the module as the source', async () => {
    const spec = fakeSpec('registered-by-function');
    expect(await registerMixerModule({ register: () => registerMixer(spec) }, 'my-plugin')).toEqual(['registered-by-function']);
    expect(getMixer('registered-by-function')).toBe(spec);
    expect(listMixers().find((m) => m.spec === spec)?.source).toBe('my-plugin');
  });

  it('names a module that exports nothing, one whose register() throws or adds nothing, and a rejected spec', async () => {
    await expect(registerMixerModule({ nothing: 1 }, 'empty')).rejects.toThrow(/plugin "empty" exports no mixer\. Export a MixerSpec/);
    await expect(
      registerMixerModule(
        {
          register: () => {
            throw new Error('boom\nstack');
          },
        },
        'thrower',
      ),
    ).rejects.toThrow(/plugin "thrower" failed in register\(\): boom\. Fix the plugin/);
    await expect(registerMixerModule({ register: () => undefined }, 'idle')).rejects.toThrow(/ran register\(\) but no mixer appeared/);
    await expect(registerMixerModule({ spec: { ...fakeSpec('Bad Name') } }, 'bad')).rejects.toThrow(/plugin "bad": mixer "Bad Name" has an invalid name/);
  });
});

describe('loadMixerPlugin', () => {
  it('loads a file relative to cwd and a package from node_modules, recording the file', async () => {
    const spec = (name: string) =>
      `export const spec = { specificationVersion: 1, name: '${name}', shiftBased: false, defaults: {}, validate: () => ({}), paramCount: () => 0, create: () => null };\n`;
    writeFileSync(join(dir, 'mixer.mjs'), spec('plugin-file'));
    const pkg = join(dir, 'node_modules', 'plugin-pkg');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'plugin-pkg', type: 'module', exports: { '.': { import: './dist/index.js' } } }));
    writeFileSync(join(pkg, 'dist', 'index.js'), spec('plugin-pkg'));
    expect(await loadMixerPlugin('./mixer.mjs', dir)).toEqual({ source: './mixer.mjs', mixers: ['plugin-file'], file: join(dir, 'mixer.mjs') });
    expect(await loadMixerPlugin('plugin-pkg', dir)).toMatchObject({ mixers: ['plugin-pkg'], file: join(pkg, 'dist', 'index.js') });
  });

  it('names a missing plugin and one that fails to load', async () => {
    await expect(loadMixerPlugin('./absent.mjs', dir)).rejects.toThrow(/plugin "\.\/absent\.mjs" not found/);
    await expect(loadMixerPlugin('not-installed-anywhere', dir)).rejects.toThrow(
      /neither a file in the current directory nor an installed package\. Install it/,
    );
    writeFileSync(join(dir, 'broken.mjs'), 'export const x = ;\n');
    await expect(loadMixerPlugin('./broken.mjs', dir)).rejects.toThrow(/plugin "\.\/broken\.mjs" failed to load/);
  });
});

describe('registerShippedMixers', () => {
  it('imports only the packages of shipped mixers the registry lacks, and skips one that is not installed', async () => {
    const imported: string[] = [];
    const importer = async (name: string) => {
      imported.push(name);
      if (name === '@shiftmix/mixer-learned-fusion') throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
      return { hsmAbSpec: fakeSpec('hsm-ab') };
    };
    registerMixer(fakeSpec('softmax-attention'));
    const loaded = await registerShippedMixers(['hsm-ab', 'learned-fusion', 'softmax-attention', 'not-shipped'], importer);
    expect(imported).toEqual(['@shiftmix/mixer-hsm-ab', '@shiftmix/mixer-learned-fusion']);
    expect(loaded).toEqual([{ source: '@shiftmix/mixer-hsm-ab', mixers: ['hsm-ab'] }]);
    expect(hasMixer('learned-fusion')).toBe(false);
    unregisterMixer('softmax-attention');
  });

  it('passes on any other import error', async () => {
    unregisterMixer('hsm-ab');
    await expect(
      registerShippedMixers(['hsm-ab'], async () => {
        throw new SyntaxError('bad build');
      }),
    ).rejects.toThrow('bad build');
  });
});
