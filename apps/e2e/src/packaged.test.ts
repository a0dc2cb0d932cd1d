import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, readmeMixerFiles, textFiles } from './fixtures.js';
import { packAll, type Tarball } from './pack.js';
import { binPath, createProject, installDevTools, workdir } from './project.js';
import { firstBlock } from './readme.js';
import { removeTemporaries, temporaryDir } from './repo.js';
import { explain, run, runShell, type RunResult } from './run.js';

// Every published package packed and installed into a new project outside the repository,
// then used there as a user would: a script, the command line, a plugin and its test, and
// a TypeScript program. Nothing of the repository is visible from the project.
let project = '';
let tarballs: Tarball[] = [];
beforeAll(() => {
  tarballs = packAll();
  project = createProject(tarballs);
});
afterAll(removeTemporaries);

/** Bytes of the files under `dir`, links not followed (what `du` counts). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(file);
    else if (entry.isFile()) total += lstatSync(file).size;
  }
  return total;
}

describe('installing core and one mixer', () => {
  it('takes at most half of the 308 MB the whole tfjs bundle took', () => {
    const small = createProject(tarballs.filter((t) => ['@shiftmix/core', '@shiftmix/native', '@shiftmix/mixer-hsm-ab'].includes(t.name)));
    const megabytes = folderBytes(path.join(small, 'node_modules')) / 2 ** 20;
    expect(megabytes).toBeLessThan(154);
    expect(existsSync(path.join(small, 'node_modules', '@tensorflow', 'tfjs'))).toBe(false);
  });
});

describe('installing the CLI', () => {
  it('takes at most 120 MB without the GPU part, and --backend webgpu says how to add it', () => {
    const cli = createProject(tarballs.filter((t) => t.name !== '@shiftmix/webgpu'));
    const megabytes = folderBytes(path.join(cli, 'node_modules')) / 2 ** 20;
    expect(megabytes).toBeLessThan(120);
    expect(existsSync(path.join(cli, 'node_modules', 'webgpu'))).toBe(false);
    const dir = workdir(cli, 'no-gpu', textFiles(cli));
    const result = run('npx', ['shiftmix', 'train', '--data', 'input.txt', '--layers', 'hsm-ab', '--out', 'r', '--steps', '1', '--backend', 'webgpu'], {
      cwd: dir,
    });
    expect(result.code, explain(result)).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^shiftmix: the webgpu backend needs the @shiftmix\/webgpu package, which is not installed\. Install it \(npm install @shiftmix\/webgpu\)/,
    );
  });
});

function ok(result: RunResult): RunResult {
  expect(result.code, explain(result)).toBe(0);
  return result;
}

describe("the CPU's native kernels in the project", () => {
  it('were compiled on install from the tarball, and the wasm backend uses them', () => {
    const script = "const { selectBackend } = await import('@shiftmix/core'); console.log((await selectBackend('wasm')).kernels);";
    const result = ok(run('node', ['--input-type=module', '-e', script], { cwd: project }));
    expect(result.stdout.trim()).toMatch(/^native, \w+/);
  });
});

describe('a user script that follows the core README, with no vitest installed', () => {
  it('trains a few steps with progress, generates and exports', () => {
    const dir = workdir(project, 'script', { ...textFiles(project), 'train.mjs': firstBlock('packages/core/README.md', 'ts') });
    const result = ok(run('node', ['train.mjs'], { cwd: dir }));
    // generate() returns the 100 characters that follow the prompt.
    expect(result.stdout.length).toBeGreaterThan(100);
    expect(result.stderr).toMatch(/step +50\/100 .*val \d/);
    expect(result.stderr).not.toMatch(/warn|error/i);
    for (const file of ['runs/hsm/last', 'runs/hsm/best', 'exported/hsm/model.onnx', 'exported/hsm/decode.onnx', 'exported/hsm/model.json']) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
  });

  it('runs the conformance kit of @shiftmix/core/testing on the README mixer', () => {
    const dir = workdir(project, 'kit', { ...readmeMixerFiles(), 'check.mjs': fixture('conformance-script.mjs') });
    const result = ok(run('node', ['check.mjs'], { cwd: dir }));
    expect(result.stdout).toMatch(/^mixer "my-mixer" on cpu: conforms$/m);
    expect(result.stdout).toMatch(/describeMixerConformance: describeMixerConformance registers vitest tests, and vitest is not installed/);
  });

  it('sees its own uncaught error reported as such after the wasm backend started', () => {
    const dir = workdir(project, 'throws', { 'throws.mjs': fixture('throws.mjs') });
    const result = run('node', ['throws.mjs'], { cwd: dir });
    expect(result.code, explain(result)).toBe(1);
    expect(result.stderr).toMatch(/^Error: a mistake in my own script$/m);
  });
});

describe('an application that bundles core for Node', () => {
  it('keeps the cpu backend, the gradients and the chained ops', async () => {
    const entry =
      "import { selectBackend, tf } from '@shiftmix/core';\nawait selectBackend('cpu');\nconsole.log(tf.getBackend(), tf.grad((x) => x.square().sum())(tf.tensor([3])).dataSync()[0]);\n";
    const dir = workdir(project, 'bundled', { 'entry.mjs': entry });
    await build({
      entryPoints: [path.join(dir, 'entry.mjs')],
      outfile: path.join(dir, 'bundle.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['@tensorflow/tfjs-backend-wasm', '@shiftmix/native'],
      // tfjs's CommonJS parts call require(), which an ES module bundle lacks.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    expect(ok(run('node', ['bundle.mjs'], { cwd: dir })).stdout.trim()).toBe('cpu 6');
  });
});

describe('the shiftmix command in the project', () => {
  let dir = '';
  const shiftmix = (args: string[], cwd = dir) => run('shiftmix', args, { cwd, path: binPath(project) });
  beforeAll(() => {
    dir = workdir(project, 'cli', { ...textFiles(project), ...readmeMixerFiles() });
  });

  it('prints its help and lists the built-in mixers at --dim 128', () => {
    expect(ok(shiftmix(['--help'])).stdout).toContain('Usage: shiftmix <command>');
    const listed = JSON.parse(ok(shiftmix(['mixers', '--dim', '128', '--json'])).stdout) as { mixers: { name: string; params: number | null }[] };
    expect(listed.mixers.map((m) => [m.name, typeof m.params])).toEqual([
      ['hsm-ab', 'number'],
      ['learned-fusion', 'number'],
      ['softmax-attention', 'number'],
    ]);
  });

  it('trains, generates and exports', () => {
    const trained = ok(
      shiftmix([
        'train',
        '--data',
        'input.txt',
        '--layers',
        'hsm-ab*4',
        '--ctx',
        '64',
        '--steps',
        '4',
        '--eval-every',
        '2',
        '--eval-batches',
        '1',
        '--out',
        'runs/hsm',
        '--json',
      ]),
    );
    expect(trained.stderr).not.toMatch(/warning/);
    expect(JSON.parse(trained.stdout.trim().split('\n').at(-1)!)).toMatchObject({ steps: 4, backend: 'wasm' });
    expect(ok(shiftmix(['generate', '--checkpoint', 'runs/hsm', '--prompt', 'ROMEO:', '--tokens', '20'])).stdout).toMatch(/^ROMEO:/);
    ok(shiftmix(['export', '--checkpoint', 'runs/hsm', '--out', 'exported']));
    expect(readdirSync(path.join(dir, 'exported')).sort()).toEqual(['decode.onnx', 'model.json', 'model.onnx']);
  });

  it.each([
    ['lm-char', 5],
    ['scaling', 3],
  ])('benchmarks %s of the shipped default suite on its shipped data', (only, runs) => {
    const result = ok(shiftmix(['bench', '--only', String(only), '--preset', 'smoke', '--backend', 'wasm']));
    expect(result.stdout).toContain(`## ${only} (${only})`);
    const out = path.join(dir, 'bench-results', 'wasm', 'default-smoke', 'runs');
    expect(readdirSync(out).filter((f) => f.startsWith(`${only}--`))).toHaveLength(Number(runs));
  });

  it('loads the README mixer with --plugin and trains with it', () => {
    const listed = JSON.parse(ok(shiftmix(['mixers', '--plugin', './my-mixer.js', '--json'])).stdout) as { mixers: { name: string; package: string }[] };
    expect(listed.mixers.find((m) => m.name === 'my-mixer')?.package).toBe('./my-mixer.js');
    ok(
      shiftmix([
        'train',
        '--plugin',
        './my-mixer.js',
        '--data',
        'input.txt',
        '--layers',
        'my-mixer,hsm-ab*2',
        '--ctx',
        '64',
        '--steps',
        '2',
        '--eval-every',
        '2',
        '--eval-batches',
        '1',
        '--out',
        'runs/mine',
      ]),
    );
  });

  it('warns about a plugin package linked from a folder outside the project, and goes on', () => {
    const source = temporaryDir('plugin-src');
    const pkg = {
      name: 'my-mixer-package',
      type: 'module',
      exports: { '.': './my-mixer.js', './mixer': './my-mixer.js' },
      shiftmix: { mixer: './my-mixer.js' },
    };
    writeFileSync(path.join(source, 'package.json'), JSON.stringify(pkg));
    writeFileSync(path.join(source, 'my-mixer.js'), readmeMixerFiles()['my-mixer.js']);
    // What `npm install ../my-mixer-package` makes: a link in node_modules.
    const linked = workdir(project, 'linked');
    mkdirSync(path.join(linked, 'node_modules'));
    symlinkSync(source, path.join(linked, 'node_modules', 'my-mixer-package'), 'dir');
    const result = ok(shiftmix(['mixers'], linked));
    expect(result.stderr).toMatch(
      /warning: plugin "my-mixer-package" failed to load: Cannot find package '@shiftmix\/core'.*is a link to .*, and Node resolves/,
    );
    expect(result.stdout).toMatch(/^hsm-ab/m);
    // Installed as a copy (from a tarball), it resolves the project's core, by its name or an exported subpath.
    const copied = workdir(project, 'copied');
    ok(runShell(`mkdir -p node_modules/my-mixer-package && cp -r '${source}'/. node_modules/my-mixer-package/`, { cwd: copied }));
    const viaPackage = JSON.parse(ok(shiftmix(['mixers', '--json'], copied)).stdout) as { mixers: { name: string; package: string }[] };
    expect(viaPackage.mixers.find((m) => m.name === 'my-mixer')?.package).toBe('my-mixer-package');
    const viaSubpath = JSON.parse(ok(shiftmix(['mixers', '--json', '--plugin', 'my-mixer-package/mixer'], copied)).stdout) as { mixers: { name: string }[] };
    expect(viaSubpath.mixers.map((m) => m.name)).toContain('my-mixer');
  });
});

describe('a plugin author with vitest and a TypeScript user', () => {
  beforeAll(() => {
    installDevTools(project);
  });

  it('runs the conformance kit on the README mixer from its test file', () => {
    const dir = workdir(project, 'author', readmeMixerFiles());
    const result = ok(run('npx', ['vitest', 'run'], { cwd: dir, env: { CI: 'true', NO_COLOR: '1' } }));
    expect(`${result.stdout}${result.stderr}`).toMatch(/Tests +6 passed \(6\)/);
  });

  it.each(['node16', 'bundler', 'node'])('type-checks a program using every package under moduleResolution %s, without skipLibCheck', (mode) => {
    const dir = workdir(project, `types-${mode}`, { 'consumer.ts': fixture('consumer.ts'), 'tsconfig.json': fixture(`tsconfig.${mode}.json`) });
    ok(run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir }));
  });

  it('fails the same check on a type error', () => {
    const dir = workdir(project, 'types-error', {
      'consumer-error.ts': fixture('consumer-error.ts'),
      'tsconfig.node16.json': fixture('tsconfig.node16.json'),
      'tsconfig.json': fixture('tsconfig.error.json'),
    });
    const result = run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/consumer-error\.ts.*error TS2322: Type 'ShiftmixModel' is not assignable to type 'number'/);
  });
});
