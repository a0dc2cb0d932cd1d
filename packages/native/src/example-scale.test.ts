import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@shiftmix/core';
import { runCheck } from '@shiftmix/core/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from './index.js';

// Core's example kernel, implemented by one C++ file (example-scale.cc) and nothing else of
// this package: its checks (which come with the kernel object) pass under wasm, as a new
// kernel's would by existing. The kernel object is defined after the package is imported,
// as a plugin's would be: the glue implements it when it is defined.
const { EXAMPLE_SCALE, useBackend } = await import('@shiftmix/core/testing');

const src = fileURLToPath(new URL('.', import.meta.url));
const developing = fileURLToPath(new URL('../../../DEVELOPING.md', import.meta.url));

useBackend('wasm');
beforeAll(() => {
  // Without the built addon nothing implements it; say why first.
  expect(loadNative().reason).toBeUndefined();
});

/** The package's sources, tests aside, below src/ (paths relative to it). */
function sources(): string[] {
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((path) => /\.(ts|cc|h)$/.test(path) && !/\.test(-util)?\.ts$/.test(path))
    .sort();
}

describe('the example fused kernel under wasm', () => {
  it('is implemented, and the backend lists it', async () => {
    expect(EXAMPLE_SCALE.implementedOn('wasm')).toBe(true);
    expect((await selectBackend('wasm')).fused).toContain(EXAMPLE_SCALE.name);
  });

  it.each(EXAMPLE_SCALE.checks().map((check) => [check.name, check] as const))('%s', async (_, check) => {
    for (const r of await runCheck(check)) expect(r.ok, `${r.name}: ${r.detail ?? ''} (${r.maxRelDiff})`).toBe(true);
  });

  it("takes the one file DEVELOPING's list asks of this package, its C++, which no other source names", () => {
    const bullet = /- \*\*A fused kernel of core's own\*\*([\s\S]*?)\n- \*\*/.exec(readFileSync(developing, 'utf8'))![1];
    const places = [...bullet.matchAll(/`(packages\/native\/[\w./-]+)`/g)].map((m) => m[1]);
    expect(places).toEqual(['packages/native/src/NAME.cc']);
    const naming = sources().filter((path) => /ExampleScale|EXAMPLE_SCALE|exampleScale/.test(readFileSync(`${src}/${path}`, 'utf8')));
    expect(naming).toEqual(['example-scale.cc']);
  });
});
