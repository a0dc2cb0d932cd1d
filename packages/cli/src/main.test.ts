import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands/index.js';
import { formatError, InputError } from './errors.js';
import { expectOneLineError, runCli, tempDir } from './test-helpers.js';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('help and version', () => {
  it('lists every command in shiftmix --help, also with no arguments', async () => {
    const names = COMMANDS.map((c) => c.name);
    expect(names).toEqual(['mixers', 'train', 'resume', 'generate', 'eval', 'tokenize', 'export', 'bench', 'worker', 'profile']);
    for (const argv of [['--help'], [], ['help']]) {
      const result = await runCli(argv);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      for (const name of names) expect(result.stdout).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
    }
  });

  it('prints the help of every command, with each of its flags', async () => {
    for (const command of COMMANDS) {
      for (const argv of [
        [command.name, '--help'],
        ['help', command.name],
        [command.name, '--dim', 'x', '-h'],
      ]) {
        const result = await runCli(argv);
        expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toContain(`Usage: shiftmix ${command.name}`);
        for (const flag of Object.keys(command.flags)) {
          const kebab = flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
          expect(result.stdout).toContain(`--${kebab}`);
        }
      }
    }
  });

  it('prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${packageJson.version}\n`);
    }
  });
});

describe('usage errors', () => {
  it('rejects an unknown command with a suggestion and exit code 2', async () => {
    expectOneLineError(await runCli(['trian']), 2, /unknown command "trian"\. Did you mean "shiftmix train"\?/);
    expectOneLineError(await runCli(['frobnicate']), 2, /unknown command "frobnicate"\. Commands: mixers, train/);
    expectOneLineError(await runCli(['--dim', '3']), 2, /"--dim" is not a command/);
  });

  it('rejects an unknown flag with the closest flag', async () => {
    expectOneLineError(await runCli(['mixers', '--dimm', '64']), 2, /unknown flag --dimm for "shiftmix mixers"\. Did you mean --dim\?/);
    expectOneLineError(await runCli(['train', '--stpes', '3']), 2, /Did you mean --steps\?/);
  });

  it('rejects non-numeric values, stray arguments and missing required flags', async () => {
    expectOneLineError(await runCli(['mixers', '--dim', 'big']), 2, /--dim must be an integer, got "big"/);
    expectOneLineError(await runCli(['mixers', 'extra']), 2, /unexpected argument "extra"/);
    // An address typed without --queue keeps its password to itself.
    const stray = await runCli(['bench', 'redis://:s3cret@queue-host:6379']);
    expect(stray.stderr).not.toContain('s3cret');
    expectOneLineError(stray, 2, /unexpected argument "redis:\/\/\*\*\*@queue-host:6379"/);
    expectOneLineError(await runCli(['train', '--data', 'x.txt']), 2, /needs --layers/);
    expectOneLineError(await runCli(['generate', '--checkpoint', 'c', '--prompt', 'a', '--tokens', 'ten']), 2, /--tokens must be an integer/);
  });

  it('rejects a missing checkpoint or data file with exit code 1', async () => {
    const cwd = tempDir({ 'empty.txt': '', 'text.txt': 'some text\n' });
    expectOneLineError(await runCli(['eval', '--checkpoint', 'nowhere', '--data', 'text.txt'], cwd), 1, /--checkpoint nowhere: no such directory/);
    expectOneLineError(await runCli(['eval', '--checkpoint', '.', '--data', 'text.txt'], cwd), 1, /holds no checkpoint/);
    const train = ['train', '--layers', 'hsm-ab', '--out', 'run', '--backend', 'cpu'];
    expectOneLineError(await runCli([...train, '--data', 'missing.txt'], cwd), 1, /--data missing\.txt: no such file/);
    expectOneLineError(await runCli([...train, '--data', 'empty.txt'], cwd), 1, /--data empty\.txt is empty/);
  });
});

describe('error formatting', () => {
  it('prints input errors as problem and fix on one line', () => {
    const formatted = formatError(new InputError('the thing is\nbroken.', 'Fix it'), false);
    expect(formatted).toEqual({ lines: ['shiftmix: the thing is broken. Fix it'], exitCode: 1 });
  });

  it('prints internal errors on one line that points to --verbose, and the stack with it', () => {
    const error = new TypeError('cannot read x\nof undefined');
    const quiet = formatError(error, false);
    expect(quiet.lines).toEqual(['shiftmix: internal error: TypeError: cannot read x of undefined (run with --verbose for the stack)']);
    expect(quiet.exitCode).toBe(1);
    const verbose = formatError(error, true);
    expect(verbose.lines[0]).toBe('shiftmix: internal error: TypeError: cannot read x of undefined');
    expect(verbose.lines.slice(1).some((line) => /^\s+at /.test(line))).toBe(true);
  });

  it('adds the stack to a reported error under --verbose', async () => {
    const result = await runCli(['mixers', '--plugin', './missing.mjs', '--verbose'], tempDir());
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^shiftmix: plugin "\.\/missing\.mjs" not found/);
    expect(lines.length).toBeGreaterThan(1);
  });
});
