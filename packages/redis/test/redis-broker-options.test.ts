import { describe, expect, it } from 'vitest';
import { ErrorCode, isCeleriacError } from '@celeriac/core';
import { resolveRedisBrokerOptions, spawnRedisServer } from '@celeriac/redis';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
    return (error as Error).message;
  }
  return expect.unreachable('expected CELERIAC_INVALID_OPTIONS');
}

describe('resolveRedisBrokerOptions', () => {
  it('applies defaults and wraps the prefix in a hash tag', () => {
    expect(resolveRedisBrokerOptions()).toEqual({
      connection: 'redis://127.0.0.1:6379',
      keyPrefix: '{celeriac}',
      commandTimeoutMs: 2_000,
      retention: { succeededAgeMs: 86_400_000, succeededCount: 1_000, failedAgeMs: 604_800_000 },
      maxPayloadBytes: 64 * 1024 * 1024,
      autoPipelining: false,
      allowEviction: false,
    });
    expect(Object.isFrozen(resolveRedisBrokerOptions())).toBe(true);
  });

  it('accepts host and port, durations with units, and TLS URLs', () => {
    const resolved = resolveRedisBrokerOptions({
      connection: { host: 'redis.internal', port: 6380, username: 'app', password: 's3cret', tls: true },
      prefix: 'billing',
      commandTimeout: '500ms',
      retention: { succeededAge: '1h', succeededCount: 10, failedAge: '2d' },
    });
    expect(resolved).toMatchObject({ keyPrefix: '{billing}', commandTimeoutMs: 500, retention: { succeededAgeMs: 3_600_000, failedAgeMs: 172_800_000 } });
    expect(resolveRedisBrokerOptions({ connection: 'rediss://user:pw@example.com:6380/2' }).connection).toBe('rediss://user:pw@example.com:6380/2');
  });

  it('accepts the seed nodes of a Redis Cluster, and no empty list', () => {
    const resolved = resolveRedisBrokerOptions({ connection: { cluster: [{ host: '10.0.0.1' }, { host: '10.0.0.2', port: 7000 }], tls: true } });
    expect(resolved.connection).toEqual({ cluster: [{ host: '10.0.0.1', port: 6379 }, { host: '10.0.0.2', port: 7000 }], tls: true });
    expect(messageOf(() => resolveRedisBrokerOptions({ connection: { cluster: [] } }))).toContain('redis.connection');
  });

  it('reads a cluster from a redis+cluster:// URL, credentials and TLS included, and says how to write one', () => {
    expect(resolveRedisBrokerOptions({ connection: 'redis+cluster://10.0.0.1:7000,10.0.0.2' }).connection).toEqual({
      cluster: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 6379 }],
    });
    expect(resolveRedisBrokerOptions({ connection: 'rediss+cluster://app:p%40ss@[::1]:7001' }).connection).toEqual({
      cluster: [{ host: '::1', port: 7001 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    for (const bad of ['redis+cluster://', 'redis+cluster://a:70000', 'redis+cluster://a:1,,b:2']) {
      expect(messageOf(() => resolveRedisBrokerOptions({ connection: bad }))).toContain('redis+cluster://[user:password@]host:port');
    }
  });

  it('names the bad field', () => {
    expect(messageOf(() => resolveRedisBrokerOptions({ connection: 'http://localhost:6379' }))).toContain('redis.connection');
    expect(messageOf(() => resolveRedisBrokerOptions({ prefix: 'Has Spaces' }))).toContain('redis.prefix');
    expect(messageOf(() => resolveRedisBrokerOptions({ connection: { port: 70_000 } }))).toContain('redis.connection');
    expect(messageOf(() => resolveRedisBrokerOptions({ commandTimeout: '2 seconds' as '2s' }))).toContain('redis.commandTimeout');
    expect(messageOf(() => resolveRedisBrokerOptions({ retention: { succeededCount: -1 } }))).toContain('redis.retention.succeededCount');
  });
});

describe('spawnRedisServer', () => {
  it('says how to install redis-server when it is missing', async () => {
    const error = await spawnRedisServer({ binary: 'redis-server-that-does-not-exist' }).catch((e: unknown) => e);
    expect(isCeleriacError(error, ErrorCode.BrokerUnavailable)).toBe(true);
    expect((error as Error).message).toContain('apt-get install redis-server');
  });
});
