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
      ['queue-host:6379', /queue URL "queue-host:6379" has no scheme\. Write redis:\/\/queue-host:6379 if that is the host and port/],
      ['http://:pw@host', /queue URL "http:\/\/\*\*\*@host" has the scheme "http"/],
      ['redis://:pw@host/jobs', /has the path "\/jobs"; the only path a Redis URL takes is a database number/],
      ['redis://host?db=1', /has a query or fragment, which the queue does not read\. Remove what follows "\?" or "#"/],
      ['redis://:p%zz@host', /queue URL "redis:\/\/\*\*\*@host" has a malformed %-escape in its user name or password\. Write characters such as @ : \/ %/],
      ['redis://:a@b/c@host:1', /queue URL "redis:\/\/\*\*\*@host:1"/],
      ['redis://not a url', /queue URL "redis:\/\/not a url" is not a URL/],
    ];
    for (const [text, message] of cases) expect(() => parseQueueUrl(text, {}), text).toThrow(message);
  });

  it('masks everything up to the last @ of a URL that did not parse', () => {
    expect(maskCredentials('redis://:p@ss/w@rd@host:1')).toBe('redis://***@host:1');
    expect(maskCredentials('redis://host:1')).toBe('redis://host:1');
  });
});
