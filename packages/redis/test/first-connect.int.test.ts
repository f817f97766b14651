import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { createRedisBroker, spawnRedisServer } from '@celeriac/redis';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

describe('a broker created while Redis is down', () => {
  it('fails a call made before its first connect with the connection\'s error, and works once Redis is up', { timeout: 20_000 }, async () => {
    const gone = await spawnRedisServer();
    await gone.stop();
    const broker = redis.track(createRedisBroker({ connection: gone.url, prefix: redis.prefix }));
    // Made before the first connection attempt has failed: the call waits for that attempt, and fails with its error
    // as soon as it fails, not after the first connect's 10 s deadline.
    await expect(broker.listCatalogue()).rejects.toMatchObject({
      code: ErrorCode.BrokerUnavailable,
      message: expect.stringMatching(/Redis did not complete "listCatalogue" \(connect ECONNREFUSED/),
    });

    const server = await spawnRedisServer({ port: Number(new URL(gone.url).port) });
    redis.track({ close: () => server.stop() });
    await vi.waitFor(() => expect(broker.listCatalogue()).resolves.toEqual([]), { timeout: 10_000, interval: 200 });
  });
});
