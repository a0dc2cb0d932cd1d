import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './test-helpers.js';
import { killAll, spawnCli, type CliProcess } from './test-processes.js';

// A password with every character that ends a part of a URL, between pieces that would be
// recognised anywhere in the output.
const PASSWORD = 'Qx7v@Wk2p/Zr9m:Hb4t#Jn6c?Fy3d';
const PIECES = PASSWORD.split(/[^A-Za-z0-9]+/);
const PLAIN = 'Plain7Secret';

/**
 * Malformed queue URLs as users write them, the password in each place a password goes:
 * without a scheme, with one slash, as user:pass, in a query or fragment, next to a bad
 * port, path or host. The host is 127.0.0.1:1 wherever one fits, so a form that parsed
 * after all would fail at once (nothing listens there).
 */
function forms(secret: string): string[] {
  const host = '127.0.0.1';
  return [
    `:${secret}@${host}:1`,
    `bench:${secret}@${host}:1`,
    `${secret}@${host}:1`,
    `redis:/:${secret}@${host}:1`,
    `redis:${secret}@${host}:1`,
    `redis:///:${secret}@${host}:1`,
    `redis//:${secret}@${host}:1`,
    `//:${secret}@${host}:1`,
    `http://:${secret}@${host}:1`,
    `rediss//bench:${secret}@${host}:1`,
    `redis://:${secret}@${host}:1?tls=true`,
    `redis://:${secret}@${host}:1#x`,
    `redis://${host}:1?password=${secret}`,
    `redis://${host}:1/0?password=${secret}#${secret}`,
    `redis://${host}:1#${secret}`,
    `redis://:${secret}@${host}:1/jobs`,
    `redis://:${secret}@${host}:port`,
    `redis://:${secret}@${host}:99999`,
    `redis://:${secret}@`,
    `redis://bench:${secret}@/2`,
    `  redis://:${secret}@${host}:1/x  `,
    `redis://:${secret}@${host}:1\n`,
    `@@:${secret}@@${host}:1`,
    `redis://:${secret}@[::1`,
    `redis://:${secret}@ ${host}:1`,
    `redis://:${secret}@${host}:1/0/0`,
  ];
}

// The three commands that take a queue URL.
const commands: ((url: string) => string[])[] = [
  (url) => ['bench', '--backend', 'cpu', '--queue', url],
  (url) => ['worker', '--backend', 'cpu', '--queue', url],
  (url) => ['bench', '--backend', 'cpu', '--queue', url, '--collect'],
];

afterAll(() => killAll());

describe('a malformed queue URL', () => {
  it('gets a one-line error from shiftmix bench --queue, worker and --collect that shows no part of the password', { timeout: 600_000 }, async () => {
    const dir = tempDir();
    const texts = [...forms(PASSWORD), ...forms(encodeURIComponent(PASSWORD)), ...forms(PLAIN)];
    // Form i of password p goes to command (26 p + i) mod 3: every form reaches every
    // command, each time with another password.
    expect(forms('x').length % commands.length).not.toBe(0);
    const cases = texts.map((text, i) => commands[i % commands.length](text));
    const secrets = [PASSWORD, encodeURIComponent(PASSWORD), PLAIN, ...PIECES];
    // Two processes at a time: each is a real `shiftmix` started from its bin file.
    const queue = [...cases];
    const check = async (): Promise<void> => {
      for (let args = queue.shift(); args; args = queue.shift()) {
        const cli: CliProcess = spawnCli(args, dir);
        const code = await cli.done;
        const what = `${JSON.stringify(args)}\n${cli.stdout()}${cli.stderr()}`;
        expect(code, what).toBe(1);
        for (const secret of secrets) expect(cli.stdout() + cli.stderr(), what).not.toContain(secret);
        expect(cli.stdout(), what).toBe('');
        const lines = cli.stderr().trimEnd().split('\n');
        expect(lines, what).toHaveLength(1);
        expect(lines[0], what).toMatch(/^shiftmix: (queue URL "[^"]*" \S.*\. \S|cannot reach Redis at )/);
      }
    };
    await Promise.all([check(), check()]);
  });
});
