import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useTestRedis } from '@celeriac/testing';
// The built code, as the broker will run it; internal/ is not in the exports map, so it is reached by path.
import { KeyLimiter, concurrencyRetryMaxMs, concurrencyRetryMinMs } from '../dist/internal/limits/key-limiter.js';

const redis = useTestRedis();

/** A connection named after the test's prefix (so the leak check sees it) and closed after the test. */
function connect(): Redis {
  const connection = new Redis(redis.url, { connectionName: `celeriac:${redis.prefix}:limiter-test` });
  redis.track({ close: async () => void (await connection.quit()) });
  return connection;
}

function keyPrefix(): string {
  return `{${redis.prefix}}`;
}

function createLimiter(): KeyLimiter {
  return new KeyLimiter(connect(), keyPrefix());
}

const longLeaseMs = 30_000;
const slot = (key: string, limit: number, leaseMs = longLeaseMs) => ({ key, limit, leaseMs });
const granted = { acquired: true };

describe('KeyLimiter concurrency', () => {
  it('grants `limit` slots and refuses the next, retrying after the earliest lease expiry capped to the maximum', async () => {
    const limiter = createLimiter();
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2) })).toEqual(granted);
    // The earliest lease ends in ~30 s, so the wait is capped.
    expect(await limiter.acquire({ jobId: 'c', concurrency: slot('t', 2) })).toEqual({
      acquired: false,
      reason: 'concurrency',
      retryAfterMs: concurrencyRetryMaxMs,
    });
  });

  it('retries after the earliest lease expiry when that is within the bounds', async () => {
    const limiter = createLimiter();
    const startedMs = Date.now();
    await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2, 600) });
    await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2, 900) });
    const decision = await limiter.acquire({ jobId: 'c', concurrency: slot('t', 2, 600) });
    const elapsedMs = Date.now() - startedMs;
    expect(decision).toMatchObject({ acquired: false, reason: 'concurrency' });
    // a's lease ends 600 ms after its grant, which happened between startedMs and the denial.
    const { retryAfterMs } = decision as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThanOrEqual(Math.max(600 - elapsedMs, concurrencyRetryMinMs));
    expect(retryAfterMs).toBeLessThanOrEqual(600);
  });

  it('frees a slot on release', async () => {
    const limiter = createLimiter();
    await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2) });
    await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2) });
    await limiter.release('a', 't');
    await limiter.release('never-acquired', 't');
    expect(await limiter.acquire({ jobId: 'c', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'd', concurrency: slot('t', 2) })).toMatchObject({ acquired: false });
  });

  it('grants a job that already holds its slot again, without counting it twice', async () => {
    const limiter = createLimiter();
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'c', concurrency: slot('t', 2) })).toMatchObject({ acquired: false });
  });

  it('frees the slot of a lease that expired', async () => {
    const limiter = createLimiter();
    // A long lease beside the short one keeps the set alive, so the expired lease must be pruned, not dropped whole.
    expect(await limiter.acquire({ jobId: 'long', concurrency: slot('t', 2) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2, 100) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2, 100) })).toMatchObject({ acquired: false });
    await sleep(150);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2, 100) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'c', concurrency: slot('t', 2, 100) })).toMatchObject({ acquired: false });
  });

  it('extends a lease on renew, and reports a lost lease as false', async () => {
    const limiter = createLimiter();
    await limiter.acquire({ jobId: 'long', concurrency: slot('t', 2) }); // keeps the set alive throughout
    // Leases of 1 s and steps of 0.5–0.75 s: each check is 250 ms away from the lease end it tests, so a busy
    // machine's late timers cannot flip it.
    await limiter.acquire({ jobId: 'a', concurrency: slot('t', 2, 1_000) });
    await sleep(500);
    expect(await limiter.renew('a', { key: 't', leaseMs: 1_000 })).toBe(true);
    await sleep(750); // past the first lease's end, within the renewed one
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2, 1_000) })).toMatchObject({ acquired: false });
    await sleep(750); // past the renewed lease's end
    expect(await limiter.renew('a', { key: 't', leaseMs: 1_000 })).toBe(false);
    expect(await limiter.renew('never-acquired', { key: 't', leaseMs: 1_000 })).toBe(false);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('t', 2, 1_000) })).toEqual(granted);
  });

  it('keeps different keys independent', async () => {
    const limiter = createLimiter();
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('tenant-1', 1) })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('tenant-1', 1) })).toMatchObject({ acquired: false });
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('tenant-2', 1) })).toEqual(granted);
  });

  it('grants exactly `limit` of many concurrent acquires from several connections', async () => {
    const limiters = [createLimiter(), createLimiter(), createLimiter(), createLimiter()];
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => limiters[i % limiters.length]!.acquire({ jobId: `j${i}`, concurrency: slot('t', 3) })),
    );
    expect(decisions.filter((decision) => decision.acquired)).toHaveLength(3);
    expect(decisions.filter((decision) => !decision.acquired && decision.reason === 'concurrency')).toHaveLength(17);
  });
});

describe('KeyLimiter rate', () => {
  const fivePerSecond = { key: 'r', limit: 5, perMs: 1_000 };

  it('spaces starts one every perMs / limit, exactly (±1 ms for rounding up)', async () => {
    const limiter = createLimiter();
    const startedMs = Date.now();
    expect(await limiter.acquire({ jobId: 'a', rate: fivePerSecond })).toEqual(granted);
    const denied = await limiter.acquire({ jobId: 'b', rate: fivePerSecond });
    const elapsedMs = Date.now() - startedMs;
    expect(denied).toMatchObject({ acquired: false, reason: 'rate' });
    // One start every 200 ms: the next is free 200 ms after the first grant, which was within elapsedMs of now.
    const { retryAfterMs } = denied as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThanOrEqual(200 - elapsedMs);
    expect(retryAfterMs).toBeLessThanOrEqual(200);
    await sleep(retryAfterMs + 5); // + a timer's imprecision
    expect(await limiter.acquire({ jobId: 'b', rate: fivePerSecond })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'c', rate: fivePerSecond })).toMatchObject({ acquired: false, reason: 'rate' });
  });

  it('grants exactly one of many concurrent acquires from several connections', async () => {
    const limiters = [createLimiter(), createLimiter(), createLimiter(), createLimiter()];
    const rate = { key: 'r', limit: 3, perMs: 10_000 };
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => limiters[i % limiters.length]!.acquire({ jobId: `j${i}`, rate })),
    );
    expect(decisions.filter((decision) => decision.acquired)).toHaveLength(1);
  });
});

describe('KeyLimiter with both limits', () => {
  const onePerTenSeconds = { key: 'r', limit: 1, perMs: 10_000 };

  it('takes no concurrency slot when the rate limit refuses', async () => {
    const limiter = createLimiter();
    await limiter.acquire({ jobId: 'a', rate: onePerTenSeconds });
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('c', 1), rate: onePerTenSeconds })).toMatchObject({
      acquired: false,
      reason: 'rate',
    });
    expect(await limiter.acquire({ jobId: 'c', concurrency: slot('c', 1) })).toEqual(granted);
  });

  it('takes no rate token when the concurrency limit refuses', async () => {
    const limiter = createLimiter();
    await limiter.acquire({ jobId: 'a', concurrency: slot('c', 1) });
    expect(await limiter.acquire({ jobId: 'b', concurrency: slot('c', 1), rate: onePerTenSeconds })).toEqual({
      acquired: false,
      reason: 'concurrency',
      retryAfterMs: concurrencyRetryMaxMs,
    });
    expect(await limiter.acquire({ jobId: 'c', rate: onePerTenSeconds })).toEqual(granted);
  });

  it('takes no second rate token when a job that holds its slot acquires again', async () => {
    const limiter = createLimiter();
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('c', 2), rate: onePerTenSeconds })).toEqual(granted);
    expect(await limiter.acquire({ jobId: 'a', concurrency: slot('c', 2), rate: onePerTenSeconds })).toEqual(granted);
  });

  it('reports the longer wait when both refuse', async () => {
    const limiter = createLimiter();
    await limiter.acquire({ jobId: 'a', concurrency: slot('c', 1), rate: onePerTenSeconds });
    const decision = await limiter.acquire({ jobId: 'b', concurrency: slot('c', 1), rate: onePerTenSeconds });
    expect(decision).toMatchObject({ acquired: false, reason: 'rate' });
    // The rate limit's next token is ~10 s away, the concurrency retry at most concurrencyRetryMaxMs.
    const { retryAfterMs } = decision as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(9_000);
    expect(retryAfterMs).toBeLessThanOrEqual(10_000);
  });
});

describe('KeyLimiter keys', () => {
  it('keeps keys with separators, spaces, braces and unicode apart, under the prefix', async () => {
    const connection = connect();
    const limiter = new KeyLimiter(connection, keyPrefix());
    const tenants = ['a:b', 'a', 'a%3Ab', 'tenant with spaces', '{other}', 'テナント-é-🚀', ''];
    for (const key of tenants) {
      expect(await limiter.acquire({ jobId: 'first', concurrency: slot(key, 1) }), key).toEqual(granted);
    }
    for (const key of tenants) {
      expect(await limiter.acquire({ jobId: 'second', concurrency: slot(key, 1) }), key).toMatchObject({ acquired: false });
    }
    await limiter.acquire({ jobId: 'first', rate: { key: 'a:b', limit: 1, perMs: 1_000 } });
    const limitKey = `${keyPrefix()}:_meta:limit`;
    expect((await connection.keys(`${keyPrefix()}*`)).sort()).toEqual(
      [
        `${limitKey}:concurrency:a%3Ab`,
        `${limitKey}:concurrency:a`,
        `${limitKey}:concurrency:a%253Ab`,
        `${limitKey}:concurrency:tenant%20with%20spaces`,
        `${limitKey}:concurrency:%7Bother%7D`,
        `${limitKey}:concurrency:%E3%83%86%E3%83%8A%E3%83%B3%E3%83%88-%C3%A9-%F0%9F%9A%80`,
        `${limitKey}:concurrency:`,
        `${limitKey}:rate:a%3Ab`,
      ].sort(),
    );
  });

  it('lets its keys expire once idle', async () => {
    const connection = connect();
    const limiter = new KeyLimiter(connection, keyPrefix());
    await limiter.acquire({ jobId: 'a', concurrency: slot('c', 1, 100), rate: { key: 'r', limit: 2, perMs: 200 } });
    expect(await connection.keys(`${keyPrefix()}*`)).toHaveLength(2);
    await sleep(150);
    expect(await connection.keys(`${keyPrefix()}*`)).toEqual([]);
  });
});
