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
