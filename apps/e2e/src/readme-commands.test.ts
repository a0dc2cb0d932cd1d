import { existsSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, readmeMixerFiles, textFiles } from './fixtures.js';
import { packAll } from './pack.js';
import { binPath, createProject, workdir } from './project.js';
import { PLANS, type CommandPlan } from './readme-plan.js';
import { firstBlock, readmeCommands, type ReadmeCommand } from './readme.js';
import { publishedPackages, removeTemporaries, ROOT, temporaryDir } from './repo.js';
import { explain, run, runShell } from './run.js';

const READMES = ['README.md', ...publishedPackages().map((p) => `${p.dir}/README.md`)];
const PROGRAMS = [
  'packages/mixer-hsm-ab/README.md',
  'packages/mixer-learned-fusion/README.md',
  'packages/mixer-softmax-attention/README.md',
  'packages/bench/README.md',
];
const commands = READMES.flatMap((readme) => readmeCommands(readme));
const planOf = (c: ReadmeCommand): CommandPlan => PLANS[c.readme]?.[c.command];
afterAll(removeTemporaries);

/** Runs one README command where its plan says; `cwd` holds the folder of each place. */
function runCommand(c: ReadmeCommand, cwd: Record<CommandPlan['where'], string>, extraPath: string[] = []): void {
  const plan = planOf(c);
  if (plan.coveredBy) return;
  const line = plan.instead?.command ?? `${c.command}${plan.append ?? ''}`;
  // npx must find the command locally: offline, it cannot fetch a package of that name instead.
  const result = runShell(line, { cwd: cwd[plan.where], path: extraPath, env: { npm_config_offline: 'true', NO_COLOR: '1' }, timeoutMs: 600_000 });
  expect(result.code, `${c.readme}:${c.line}\n${explain(result)}`).toBe(0);
  // No README command should warn (the first training command used to, about unused shifts).
  expect(result.stderr, `${c.readme}:${c.line}`).not.toMatch(/warning/i);
  if (plan.stdout) expect(result.stdout, `${c.readme}:${c.line}\n${explain(result)}`).toMatch(plan.stdout);
}

describe('README commands', () => {
  it('each has a plan in readme-plan.ts, and each plan a command in a README', () => {
    expect(commands.filter((c) => !planOf(c)).map((c) => `${c.readme}:${c.line}: ${c.command}`)).toEqual([]);
    const written = new Set(commands.map((c) => `${c.readme}\n${c.command}`));
    const planned = Object.entries(PLANS).flatMap(([readme, plans]) => Object.keys(plans).map((command) => `${readme}\n${command}`));
    expect(planned.filter((p) => !written.has(p))).toEqual([]);
  });

  it('that no test can run are covered by what the plan names', () => {
    expect(readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});

describe('the repository README on this checkout', () => {
  let clone = '';
  beforeAll(() => {
    // A folder with the checkout's node_modules and benchmarks/, so that the README's paths
    // resolve as in the checkout while runs/ and exported/ are written outside it.
    clone = temporaryDir('clone');
    for (const name of ['node_modules', 'benchmarks']) symlinkSync(path.join(ROOT, name), path.join(clone, name), 'dir');
  });

  it('has the shiftmix command linked by npm install, pointing at the package', () => {
    const link = path.join(ROOT, 'node_modules', '.bin', 'shiftmix');
    expect(existsSync(link), 'node_modules/.bin/shiftmix is missing: npm did not link the command').toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(path.join(ROOT, 'packages', 'cli', 'bin', 'shiftmix.js')));
  });

  it.each(commands.filter((c) => c.readme === 'README.md').map((c) => [c.command, c]))('%s', (_, c) => {
    runCommand(c, { repository: ROOT, clone, project: '' });
  });

  it('exported the model the README trained', () => {
    for (const file of ['model.onnx', 'decode.onnx', 'model.json']) expect(existsSync(path.join(clone, 'exported', 'hsm', file)), file).toBe(true);
  });
});

describe('the package READMEs in a project with the packed packages', () => {
  let project = '';
  let dir = '';
  beforeAll(() => {
    project = createProject(packAll());
    dir = workdir(project, 'readme', { ...textFiles(project), ...readmeMixerFiles(), 'my-suite.json': fixture('my-suite.json') });
  });

  it.each(commands.filter((c) => c.readme !== 'README.md').map((c) => [`${c.readme}: ${c.command}`, c]))('%s', (_, c) => {
    runCommand(c, { repository: ROOT, clone: '', project: dir }, binPath(project));
  });

  // The other READMEs' examples are fragments (onnx: of a trained model) or need a GPU (webgpu);
  // the core README's program and the repository README's mixer run in packaged.test.ts.
  it.each(PROGRAMS)('%s: the example program runs as written', (readme) => {
    const file = `${readme.replace(/\W+/g, '-')}.mjs`;
    writeFileSync(path.join(dir, file), firstBlock(readme, 'ts'));
    const result = run('node', [file], { cwd: dir });
    expect(result.code, explain(result)).toBe(0);
  });
});
