import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import type { StreamedJobEvent } from '@celeriac/broker';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

describe('event cursors across queues', () => {
  it('orders two queues\' same-millisecond events by queue, and resumes after any of them without a miss or a repeat', async () => {
    const connection = new Redis(redis.url, { connectionName: `celeriac:${redis.prefix}:event-cursor-test` });
    redis.track({ close: async () => void (await connection.quit()) });
    // Entries with chosen ids, as BullMQ writes them, so that both streams hold the same ids.
    const entries: [queue: string, id: string][] = [['b', '999-5'], ['a', '1000-0'], ['b', '1000-0'], ['a', '1000-1'], ['b', '1000-1']];
    for (const [queue, id] of entries) {
      await connection.xadd(`{${redis.prefix}}:${queue}:events`, id, 'event', 'waiting', 'jobId', `${queue}-${id}`);
    }
    const broker = redis.createBroker();
    const readAfter = async (after: string, expected: number): Promise<string[]> => {
      const events: StreamedJobEvent[] = [];
      const subscription = await broker.subscribeEvents({ queues: ['a', 'b'], after }, (event) => events.push(event));
      await vi.waitFor(() => expect(events.length).toBeGreaterThanOrEqual(expected));
      await subscription.close();
      return events.map((event) => event.cursor);
    };

    const all = await readAfter('1-0', entries.length);
    expect(all).toEqual(['999-5@b', '1000-0@a', '1000-0@b', '1000-1@a', '1000-1@b']);
    for (const [index, cursor] of all.entries()) {
      if (index === all.length - 1) continue;
      expect(await readAfter(cursor, all.length - index - 1), `after ${cursor}`).toEqual(all.slice(index + 1));
    }
  });

  it('keeps the log order when one queue has more new events than one read takes', async () => {
    const connection = new Redis(redis.url, { connectionName: `celeriac:${redis.prefix}:event-cursor-test` });
    redis.track({ close: async () => void (await connection.quit()) });
    // 600 entries in queue a (more than one XREAD batch of 500), and one in queue b stamped after a's 500th.
    const pipeline = connection.pipeline();
    for (let ms = 1; ms <= 600; ms++) pipeline.xadd(`{${redis.prefix}}:a:events`, `${ms}-0`, 'event', 'waiting', 'jobId', `a${ms}`);
    pipeline.xadd(`{${redis.prefix}}:b:events`, '550-0', 'event', 'waiting', 'jobId', 'b550');
    await pipeline.exec();
    const expected = [...Array.from({ length: 550 }, (_, i) => `${i + 1}-0@a`), '550-0@b', ...Array.from({ length: 50 }, (_, i) => `${i + 551}-0@a`)];

    const events: StreamedJobEvent[] = [];
    const subscription = await redis.createBroker().subscribeEvents({ queues: ['a', 'b'], after: '0-1' }, (event) => events.push(event));
    await vi.waitFor(() => expect(events.length).toBeGreaterThanOrEqual(expected.length));
    await subscription.close();
    expect(events.map((event) => event.cursor)).toEqual(expected);
  });

  it('refuses a malformed cursor with what to do', async () => {
    const broker = redis.createBroker();
    for (const after of ['yesterday', '1000-0@', '1000-0@Not_A_Queue', '1000']) {
      await expect(broker.subscribeEvents({ after }, () => {})).rejects.toThrow(/is not an event cursor\. Resume with the id of an event/);
    }
  });
});
