import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, pluginSpecSource, runCli, tempDir } from './test-helpers.js';
import { spawnCli } from './test-processes.js';

interface Row {
  name: string;
  package: string | null;
  shiftBased: boolean;
  params: number | null;
  error?: string;
}

async function listed(argv: string[], cwd: string): Promise<Row[]> {
  const result = await runCli(['mixers', '--json', ...argv], cwd);
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]) as { mixers: Row[] }).mixers;
}

describe('shiftmix mixers', () => {
  it('lists the three built-ins with their packages and per-layer parameters at --dim', async () => {
    const dim = 128;
    const rows = await listed(['--dim', String(dim), '--heads', '4'], tempDir());
    const byName = new Map(rows.map((r) => [r.name, r]));
    // Counts from the mixers' definitions: (a, b) per channel; W_v, W_o, W_g (2D x D), c;
    // fused qkv and output projection with biases.
    expect(byName.get('hsm-ab')).toMatchObject({ package: '@shiftmix/mixer-hsm-ab', shiftBased: true, params: 2 * dim });
    expect(byName.get('learned-fusion')).toMatchObject({ package: '@shiftmix/mixer-learned-fusion', shiftBased: true, params: 4 * dim * dim + dim });
    expect(byName.get('softmax-attention')).toMatchObject({ package: '@shiftmix/mixer-softmax-attention', shiftBased: false, params: 4 * dim * dim + 4 * dim });
  });

  it('sizes what it can: a mixer that cannot be sized at --dim shows its error, not a failed command', async () => {
    const result = await runCli(['mixers', '--json', '--dim', '10', '--heads', '4'], tempDir());
    expect(result.code, result.stderr).toBe(0);
    const rows = (JSON.parse(result.stdout) as { mixers: Row[] }).mixers;
    expect(rows.find((r) => r.name === 'hsm-ab')?.params).toBe(20);
    expect(rows.find((r) => r.name === 'softmax-attention')).toMatchObject({
      params: null,
      error: expect.stringMatching(/dim 10 is not divisible by heads 4/),
    });
    expect(result.stderr).toMatch(
      /^shiftmix: warning: mixer "softmax-attention" cannot be sized at --dim 10 --heads 4: softmax-attention: dim 10 is not divisible by heads 4\. Use a number of heads that divides 10/,
    );
    const table = await runCli(['mixers', '--dim', '10', '--heads', '4'], tempDir());
    expect(table.stdout).toMatch(/softmax-attention\s+@shiftmix\/mixer-softmax-attention\s+no\s+-\s/);
  });

  it('sizes every built-in at --dim 128 with the default heads, as the README shows', async () => {
    const rows = await listed(['--dim', '128'], tempDir());
    expect(rows.filter((r) => r.params === null)).toEqual([]);
  });

  it('prints a table by default', async () => {
    const result = await runCli(['mixers'], tempDir());
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^NAME\s+PACKAGE\s+SHIFT\s+PARAMS@D=384/);
    expect(result.stdout).toMatch(/hsm-ab\s+@shiftmix\/mixer-hsm-ab\s+yes\s+768\b/);
  });

  it('loads a plugin each of the three ways', async () => {
    const cwd = tempDir({
      'flag-plugin.mjs': pluginSpecSource('via-flag', (s) => `export const viaFlagSpec = ${s};`),
      'config-plugin.mjs': pluginSpecSource('via-config', (s) => `export default [${s}];`),
      'shiftmix.config.json': JSON.stringify({ plugins: ['./config-plugin.mjs'] }),
      'node_modules/shiftmix-mixer-installed/package.json': JSON.stringify({
        name: 'shiftmix-mixer-installed',
        type: 'module',
        shiftmix: { mixer: './dist/index.js' },
      }),
      'node_modules/shiftmix-mixer-installed/dist/index.js': pluginSpecSource('via-installed', (s) => `export const spec = ${s};`),
      'node_modules/unrelated/package.json': JSON.stringify({ name: 'unrelated' }),
    });
    const rows = await listed(['--plugin', './flag-plugin.mjs', '--dim', '64', '--heads', '2'], cwd);
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('via-flag')).toMatchObject({ package: './flag-plugin.mjs', params: 3 * 64 + 2 });
    expect(byName.get('via-config')).toMatchObject({ package: './config-plugin.mjs', params: 3 * 64 + 2 });
    expect(byName.get('via-installed')).toMatchObject({ package: 'shiftmix-mixer-installed', params: 3 * 64 + 2 });
    expect(byName.has('hsm-ab')).toBe(true);
  });

  it('loads a plugin by package name from node_modules', async () => {
    const cwd = tempDir({
      'node_modules/@acme/mixer/package.json': JSON.stringify({ name: '@acme/mixer', type: 'module', exports: { '.': { import: './main.js' } } }),
      'node_modules/@acme/mixer/main.js': pluginSpecSource('acme-mixer', (s) => `export default ${s};`),
    });
    const rows = await listed(['--plugin', '@acme/mixer'], cwd);
    expect(rows.find((r) => r.name === 'acme-mixer')?.package).toBe('@acme/mixer');
  });

  it('loads a package subpath that its exports name, as Node would', async () => {
    const cwd = tempDir({
      'node_modules/@acme/mixers/package.json': JSON.stringify({
        name: '@acme/mixers',
        type: 'module',
        exports: { '.': './main.js', './fast': { types: './fast.d.ts', import: './lib/fast.js' }, './extra/*': './lib/extra/*.js' },
      }),
      'node_modules/@acme/mixers/lib/fast.js': pluginSpecSource('acme-fast', (s) => `export default ${s};`),
      'node_modules/@acme/mixers/lib/extra/slow.js': pluginSpecSource('acme-slow', (s) => `export default ${s};`),
    });
    const rows = await listed(['--plugin', '@acme/mixers/fast', '--plugin', '@acme/mixers/extra/slow'], cwd);
    expect(rows.find((r) => r.name === 'acme-fast')?.package).toBe('@acme/mixers/fast');
    expect(rows.find((r) => r.name === 'acme-slow')?.package).toBe('@acme/mixers/extra/slow');
    expectOneLineError(
      await runCli(['mixers', '--plugin', '@acme/mixers/lib/fast.js'], cwd),
      1,
      /package "@acme\/mixers\/lib\/fast\.js" does not export "\.\/lib\/fast\.js"\. Its package\.json "exports" lists @acme\/mixers, @acme\/mixers\/fast, @acme\/mixers\/extra\/\*/,
    );
  });

  it('says so in one line when a plugin is missing, throws, exports nothing or registers nothing', async () => {
    const cwd = tempDir({
      'throws.mjs': "throw new Error('boom at import');\n",
      'empty.mjs': 'export const answer = 42;\n',
      'noop.mjs': 'export function register() {}\n',
      'register-throws.mjs': "export default function register() { throw new Error('no GPU here'); }\n",
      'bad-spec.mjs': "export const spec = { specificationVersion: 9, name: 'old-mixer' };\n",
    });
    expectOneLineError(await runCli(['mixers', '--plugin', './missing.mjs'], cwd), 1, /plugin "\.\/missing\.mjs" not found/);
    expectOneLineError(await runCli(['mixers', '--plugin', 'no-such-package'], cwd), 1, /neither a file .* nor an installed package/);
    expectOneLineError(await runCli(['mixers', '--plugin', './throws.mjs'], cwd), 1, /failed to load: boom at import/);
    expectOneLineError(await runCli(['mixers', '--plugin', './empty.mjs'], cwd), 1, /exports no mixer\. Export a MixerSpec/);
    expectOneLineError(await runCli(['mixers', '--plugin', './noop.mjs'], cwd), 1, /no mixer appeared/);
    expectOneLineError(await runCli(['mixers', '--plugin', './register-throws.mjs'], cwd), 1, /failed in register\(\): no GPU here/);
    expectOneLineError(await runCli(['mixers', '--plugin', './bad-spec.mjs'], cwd), 1, /specificationVersion 9/);
  });

  it('names a plugin whose top-level await never settles, where Node alone would exit 13 in silence', async () => {
    const cwd = tempDir({ 'stuck.mjs': 'await new Promise(() => {});\nexport const spec = {};\n' });
    const cli = spawnCli(['mixers', '--plugin', './stuck.mjs'], cwd);
    const code = await cli.done;
    expectOneLineError(
      { code: code ?? -1, stdout: cli.stdout(), stderr: cli.stderr() },
      1,
      /plugin "\.\/stuck\.mjs" never finished loading: its top-level await/,
    );
  });

  it('rejects a config file that is not JSON or whose plugins are not a list', async () => {
    expectOneLineError(await runCli(['mixers'], tempDir({ 'shiftmix.config.json': '{ plugins: [' })), 1, /shiftmix\.config\.json is not valid JSON/);
    expectOneLineError(await runCli(['mixers'], tempDir({ 'shiftmix.config.json': '{"plugins": "./x.js"}' })), 1, /must be a list/);
  });

  it('warns about an installed package that fails to load, and goes on without it', async () => {
    const cwd = tempDir({
      'node_modules/broken-mixer/package.json': JSON.stringify({ name: 'broken-mixer', shiftmix: { mixer: './dist/index.js' } }),
      'node_modules/throwing-mixer/package.json': JSON.stringify({ name: 'throwing-mixer', type: 'module', shiftmix: { mixer: './index.js' } }),
      'node_modules/throwing-mixer/index.js': "throw new Error('boom at import');\n",
    });
    const result = await runCli(['mixers', '--json'], cwd);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.trimEnd().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^shiftmix: warning: installed package "broken-mixer" declares .* which does not exist, so its mixers are not loaded\. Build or reinstall broken-mixer$/,
    );
    expect(warnings[1]).toMatch(/^shiftmix: warning: plugin "throwing-mixer" failed to load: boom at import, so its mixers are not loaded/);
    expect((JSON.parse(result.stdout) as { mixers: Row[] }).mixers.map((r) => r.name)).toContain('hsm-ab');
  });

  it('names the cause when a linked plugin package cannot find @shiftmix/core from its real folder', async () => {
    // npm installs a local folder (npm install ../my-mixer) as a link into node_modules.
    const source = tempDir({
      'package.json': JSON.stringify({ name: 'linked-mixer', type: 'module', shiftmix: { mixer: './index.js' } }),
      'index.js': "import { tf } from '@shiftmix/core';\nexport const spec = { name: 'linked', tf };\n",
    });
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'node_modules'));
    symlinkSync(source, path.join(cwd, 'node_modules', 'linked-mixer'), 'dir');
    const result = await runCli(['mixers'], cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^shiftmix: warning: plugin "linked-mixer" failed to load: Cannot find package '@shiftmix\/core' .*; .*node_modules\/linked-mixer is a link to .*, and Node resolves the plugin's imports from there, where @shiftmix\/core is not installed, so its mixers are not loaded\. Install the plugin from a tarball \(npm pack/,
    );
    expect(result.stdout).toMatch(/^NAME/);
  });

  it('warns on stderr when a --plugin replaces a mixer of the same name', async () => {
    const cwd = tempDir({
      'one.mjs': pluginSpecSource('twice-named', (s) => `export const spec = ${s};`),
      'two.mjs': pluginSpecSource('twice-named', (s) => `export const spec = ${s};`),
    });
    const result = await runCli(['mixers', '--json', '--plugin', './one.mjs', '--plugin', './two.mjs'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/"twice-named" is already registered by \.\/one\.mjs/);
    const rows = (JSON.parse(result.stdout) as { mixers: Row[] }).mixers;
    expect(rows.filter((r) => r.name === 'twice-named').map((r) => r.package)).toEqual(['./two.mjs']);
  });
});
