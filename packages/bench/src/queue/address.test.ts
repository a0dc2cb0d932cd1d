import { describe, expect, it } from 'vitest';
import { maskCredentials, parseQueueUrl, redisOptions } from './address.js';

describe('parseQueueUrl', () => {
  it('reads host, port, database, user and a percent-encoded password, and shows the password as ***', () => {
    expect(parseQueueUrl('redis://queue-host')).toEqual({
      host: 'queue-host',
      port: 6379,
      db: 0,
      username: undefined,
      password: undefined,
      tls: false,
      display: 'redis://queue-host:6379',
    });
    const full = parseQueueUrl('rediss://bench:p%40ss%3Aw%2Frd@10.0.0.5:6380/2');
    expect(full).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, username: 'bench', password: 'p@ss:w/rd', tls: true });
    expect(full.display).toBe('rediss://bench:***@10.0.0.5:6380/2');
    expect(parseQueueUrl('redis://:secret@[::1]:7000').display).toBe('redis://:***@[::1]:7000');
    expect(parseQueueUrl('redis://:secret@[::1]:7000').host).toBe('::1');
  });

  it('takes the password from SHIFTMIX_REDIS_PASSWORD when the URL has none', () => {
    const address = parseQueueUrl('redis://queue-host:6379', { SHIFTMIX_REDIS_PASSWORD: 'from-env' });
    expect(address.password).toBe('from-env');
    expect(address.display).toBe('redis://:***@queue-host:6379');
    expect(parseQueueUrl('redis://:in-url@queue-host', { SHIFTMIX_REDIS_PASSWORD: 'from-env' }).password).toBe('in-url');
    expect(redisOptions(address)).toEqual({ host: 'queue-host', port: 6379, db: 0, password: 'from-env', maxRetriesPerRequest: null });
  });

  it('names what is wrong with a URL, without the password in it', () => {
    const cases: [string, RegExp][] = [
      ['queue-host:6379', /queue URL "queue-host:6379" has no scheme\. Write redis:\/\/queue-host:6379\. Write redis:\/\/HOST:PORT/],
      [
        ':pw@127.0.0.1:6379',
        /queue URL "\*\*\*@127\.0\.0\.1:6379" has no scheme\. Write redis:\/\/:PASSWORD@127\.0\.0\.1:6379 \(write @ : \/ \? # % in a password as/,
      ],
      ['redis:/:pw@host:1', /queue URL "redis:\/\*\*\*@host:1" has 1 slash after "redis:"\. Write redis:\/\/:PASSWORD@host:1/],
      ['http://:pw@host', /queue URL "http:\/\/\*\*\*@host" has the scheme "http"; the queue is a Redis server\. Write redis:\/\/:PASSWORD@host/],
      ['redis://:pw@host/jobs', /queue URL "redis:\/\/\*\*\*@host\/\*\*\*" has a path that is not a database number/],
      ['redis://host?db=1', /queue URL "redis:\/\/host\?\*\*\*" has a query or fragment, which the queue does not read\. Remove what follows "\?" or "#"/],
      [
        'redis://:p%zz@host',
        /queue URL "redis:\/\/\*\*\*@host" has a malformed %-escape in its user name or password\. Write characters such as @ : \/ \? # %/,
      ],
      ['redis://:a@b/c@host:1', /queue URL "redis:\/\/\*\*\*@host:1"/],
      ['redis://not a url', /queue URL "redis:\/\/not a url" is not a URL/],
      ['redis://host:pw', /queue URL "redis:\/\/host:\*\*\*" is not a URL/],
      ['', /queue URL "" is empty/],
    ];
    for (const [text, message] of cases) expect(() => parseQueueUrl(text, {}), text).toThrow(message);
  });

  it('never shows a password, whatever the form it is written in', () => {
    // Passwords as users write them: plain, and with every character that ends a URL's part.
    const passwords = ['Plain7Secret', 'Qx7v@Wk2p/Zr9m:Hb4t#Jn6c?Fy3d', 'Lm3k%Tg8w&Pq1z=Rd5e', 'Vb6n Xc2m'];
    for (const pw of passwords) {
      const pieces = pw.split(/[^A-Za-z0-9]+/).filter((p) => p.length >= 3);
      const forms = (secret: string) => [
        `:${secret}@127.0.0.1:6379`,
        `bench:${secret}@queue-host`,
        `${secret}@queue-host:6379`,
        `redis:/:${secret}@queue-host:1`,
        `redis:${secret}@queue-host`,
        `redis:///:${secret}@queue-host`,
        `redis//:${secret}@queue-host`,
        `//:${secret}@queue-host`,
        `http://:${secret}@queue-host`,
        `redis://:${secret}@queue-host?tls=1`,
        `redis://:${secret}@queue-host#x`,
        `redis://queue-host?password=${secret}`,
        `redis://queue-host:6379/0?password=${secret}`,
        `redis://queue-host#${secret}`,
        `redis://:${secret}@queue-host/jobs`,
        `redis://:${secret}@queue-host:port`,
        `redis://:${secret}@queue-host:99999`,
        `redis://:${secret}@`,
        `redis://bench:${secret}@/2`,
        ` rediss://:${secret}@queue-host:1/x `,
        `redis://:${secret}@queue-host\n`,
        `@@:${secret}@@queue-host`,
        // No host after the password: only a password without "@" can be told from a host.
        ...(secret.includes('@') ? [] : [`redis://:${secret}`, `redis://bench:${secret}`, `:${secret}`]),
      ];
      for (const secret of [pw, encodeURIComponent(pw)]) {
        for (const text of forms(secret)) {
          let said: string;
          try {
            said = parseQueueUrl(text, {}).display;
          } catch (error) {
            said = (error as Error).message;
          }
          for (const piece of [pw, encodeURIComponent(pw), ...pieces]) {
            expect(maskCredentials(text), JSON.stringify(text)).not.toContain(piece);
            expect(said, JSON.stringify(text)).not.toContain(piece);
          }
          expect(said, JSON.stringify(text)).not.toContain('\n');
        }
      }
    }
  });

  it('shows a lone user name as ***: it may be a password in the wrong place', () => {
    expect(parseQueueUrl('redis://Secret1@queue-host', {}).display).toBe('redis://***@queue-host:6379');
    expect(parseQueueUrl('redis://Secret1@queue-host', { SHIFTMIX_REDIS_PASSWORD: 'x' }).display).toBe('redis://***:***@queue-host:6379');
  });

  it('masks everything up to the last @ of a URL that did not parse, and any query', () => {
    expect(maskCredentials('redis://:p@ss/w@rd@host:1')).toBe('redis://***@host:1');
    expect(maskCredentials('redis://host:1')).toBe('redis://host:1');
    expect(maskCredentials('redis://host:1/0?password=x')).toBe('redis://host:1/0?***');
    expect(maskCredentials('redis://h?pw=a@b')).toBe('redis://***@***?***');
    expect(maskCredentials('redis://[::1]:7000')).toBe('redis://[::1]:7000');
    expect(maskCredentials('redis://ho\nst')).toBe('redis://ho\\u000ast');
  });
});
