import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { useTestRedis } from '@celeriac/testing';
import { createRedisConnection } from '@celeriac/redis';

const redis = useTestRedis();

async function connect(autoPipelining?: boolean): Promise<Redis> {
  const connection = createRedisConnection({ connection: redis.url, prefix: redis.prefix, ...(autoPipelining === undefined ? {} : { autoPipelining }) });
  // A command connection has no offline queue: wait until it is connected.
  if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve));
  return connection;
}

describe('createRedisConnection', () => {
  it('holds the commands of one tick for one write when auto-pipelining, and sends each at once otherwise', async () => {
    const [plain, pipelined] = [await connect(), await connect(true)];
    try {
      const issue = (connection: Redis) => [1, 2, 3].map((n) => connection.set(`{${redis.prefix}}:pipelined:${n}`, n));
      const [sentAtOnce, held] = [issue(plain), issue(pipelined)];
      expect(plain.autoPipelineQueueSize).toBe(0);
      expect(pipelined.autoPipelineQueueSize).toBe(3);
      expect(await Promise.all([...sentAtOnce, ...held])).toEqual(Array(6).fill('OK'));
      expect(await pipelined.mget([1, 2, 3].map((n) => `{${redis.prefix}}:pipelined:${n}`))).toEqual(['1', '2', '3']);
    } finally {
      await Promise.all([plain.quit(), pipelined.quit()]);
    }
  });
});
