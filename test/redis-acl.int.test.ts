import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, toCatalogueEntry } from '@celeriac/core';
import { createRedisBroker, createRedisConnection } from '@celeriac/redis';
import { useTestRedis } from '@celeriac/testing';
import { createApiKey, createApiServer } from '@celeriac/api';
import { add } from './fixtures/test-tasks.js';

const redis = useTestRedis();

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/**
 * Creates a Redis ACL user on the test Redis that may only touch this test's keys (`~{prefix}*`), as an operator
 * would give each deployment its own user. It is deleted after the test.
 */
async function createAclUser(): Promise<{ username: string; password: string; host: string; port: number }> {
  const admin = createRedisConnection({ connection: redis.url, prefix: redis.prefix });
  // A command connection has no offline queue: wait until it is connected.
  if (admin.status !== 'ready') await new Promise((resolve) => admin.once('ready', resolve));
  const username = `celeriac-${redis.prefix}`;
  const password = randomBytes(16).toString('hex');
  await admin.call('ACL', 'SETUSER', username, 'reset', 'on', `>${password}`, `~{${redis.prefix}}*`, '&*', '+@all');
  cleanup = async () => {
    await admin.call('ACL', 'DELUSER', username);
    await admin.quit();
  };
  const { hostname, port } = new URL(redis.url);
  return { username, password, host: hostname, port: Number(port) };
}

describe('Redis with ACL credentials', () => {
  it('runs the broker, the API and its rate limiter as an ACL user given in the URL', async () => {
    const user = await createAclUser();
    const url = `redis://${user.username}:${user.password}@${user.host}:${user.port}`;
    const broker = redis.track(createRedisBroker({ connection: url, prefix: redis.prefix }));
    await broker.publishCatalogue([toCatalogueEntry(add)]);
    const { key, record } = createApiKey({ scopes: ['read', 'submit'] });
    const app = redis.track(await createApiServer({ connection: url, prefix: redis.prefix, logger: false, auth: { keys: [record] } }));
    const headers = { authorization: `Bearer ${key}` };
    const submitted = await app.inject({ method: 'POST', url: '/v1/tasks/add', payload: { x: 1, y: 2 }, headers });
    expect(submitted.statusCode).toBe(201);
    expect((await app.inject({ url: `/v1/jobs/${submitted.json().id}`, headers })).json()).toMatchObject({ state: 'queued' });

    // The credentials really are the restricted user's: a key outside the prefix is refused.
    const raw = createRedisConnection({ connection: url, prefix: redis.prefix });
    if (raw.status !== 'ready') await new Promise((resolve) => raw.once('ready', resolve));
    try {
      await expect(raw.set('outside-the-prefix', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      await raw.quit();
    }
  });

  it('takes the ACL user as username and password options too', async () => {
    const user = await createAclUser();
    const connection = { host: user.host, port: user.port, username: user.username, password: user.password };
    const broker = redis.track(createRedisBroker({ connection, prefix: redis.prefix }));
    await broker.publishCatalogue([toCatalogueEntry(add)]);
    const app = redis.track(await createApiServer({ connection, prefix: redis.prefix, logger: false, auth: false }));
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/v1/tasks')).json().tasks).toHaveLength(1);
  });

  it('passes TLS through to ioredis for rediss:// URLs and { tls: true }', () => {
    // No TLS-enabled Redis here: check the options ioredis received (docs/security.md shows a real setup).
    for (const connection of ['rediss://user:secret@127.0.0.1:1', { host: '127.0.0.1', port: 1, tls: true }]) {
      const tls = createRedisConnection({ connection, prefix: redis.prefix });
      try {
        expect(tls.options.tls).toBeDefined();
        if (typeof connection === 'string') expect(tls.options).toMatchObject({ username: 'user', password: 'secret' });
      } finally {
        tls.disconnect();
      }
    }
  });

  it('answers 503 within a second with a wrong password, instead of hanging', async () => {
    const user = await createAclUser();
    const url = `redis://${user.username}:wrong@${user.host}:${user.port}`;
    const app = redis.track(await createApiServer({ connection: url, prefix: redis.prefix, logger: false, auth: false, redisTimeout: '500ms' }));
    const started = Date.now();
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe(ErrorCode.BrokerUnavailable);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
