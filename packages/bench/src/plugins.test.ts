import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasMixer, unregisterMixer } from '@shiftmix/core';
import { loadPlugins, registerModule } from './plugins.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-plugins-'));
afterAll(() => {
  unregisterMixer('bench-cjs');
  rmSync(dir, { recursive: true, force: true });
});

describe('loadPlugins', () => {
  it('registers the specs of a CommonJS module whose exports arrive as one default object', async () => {
    // What Node gives for module.exports = build(): no named exports, only `default`.
    const cjsSpec = { specificationVersion: 1, name: 'bench-cjs', description: 'd', shiftBased: false, defaults: {}, validate: () => ({}), paramCount: () => 0, create: () => { throw new Error('unused'); } };
    expect(await registerModule({ default: { cjsSpec } }, 'cjs-plugin')).toEqual(['bench-cjs']);
    expect(hasMixer('bench-cjs')).toBe(true);
  });

  it('names a module that exports no mixer', async () => {
    writeFileSync(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    await expect(loadPlugins(['./empty.mjs'], dir)).rejects.toThrow(/plugin "\.\/empty\.mjs" exports no mixer\. Export a MixerSpec/);
  });
});
