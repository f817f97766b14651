import { setTimeout as sleep } from 'node:timers/promises';
import { FlowProducer, Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useTestRedis } from '@celeriac/testing';
// The built code, as the broker will run it; internal/ is not in the exports map, so it is reached by path.
import { toJobHash } from '../dist/internal/read-job-hash.js';

const redis = useTestRedis();

/** A raw connection named after the test's prefix (so the leak check sees it), closed after the test. */
function connect(): Redis {
  const connection = new Redis(redis.url, { connectionName: `celeriac:${redis.prefix}:read-job-hash-test`, maxRetriesPerRequest: null });
  redis.track({ close: async () => void (await connection.quit()) });
  return connection;
}

/** A job's data, without its links to the queue and backend (which differ only by identity). */
function fieldsOf(job: Job | undefined): Record<string, unknown> | undefined {
  if (!job) return undefined;
  return Object.fromEntries(
    Object.entries(job).filter(([key, value]) => typeof value !== 'function' && key !== 'queue' && key !== 'backend'),
  );
}

async function settled(queue: Queue, id: string): Promise<void> {
  for (let i = 0; i < 200 && !['completed', 'failed'].includes(await queue.getJobState(id)); i++) await sleep(25);
}

describe('toJobHash', () => {
  it('builds the same Job as BullMQ\'s Job.fromId, for jobs in every state, and keeps blob fields as bytes', async () => {
    const connection = connect();
    const prefix = `{${redis.prefix}}`;
    const queue = redis.track(new Queue('q', { connection, prefix }));
    const flows = redis.track(new FlowProducer({ connection, prefix }));
    const ids: string[] = [];
    const add = async (opts: Parameters<Queue['add']>[2]) => ids.push(String((await queue.add('task', { n: ids.length }, opts)).id));
    await add({ priority: 3, attempts: 2, backoff: { type: 'fixed', delay: 10 }, removeOnComplete: { count: 5 } });
    await add({ delay: 60_000 });
    await add({ deduplication: { id: 'once', ttl: 60_000 } });
    const flow = await flows.add({ name: 'parent', queueName: 'q', data: {}, children: [{ name: 'child', queueName: 'q', data: { c: 1 } }] });
    ids.push(String(flow.job.id), String(flow.children?.[0]?.job.id));
    // Two that run: one succeeds after reporting progress, one fails with a stack trace.
    const ran = [String((await queue.add('ok', {})).id), String((await queue.add('bad', {})).id)];
    const worker = redis.track(
      new Worker(
        'q',
        async (job) => {
          if (job.name === 'bad') throw new Error('broken');
          if (job.name === 'ok') await job.updateProgress({ half: true });
          return { done: job.name };
        },
        { connection: connect(), prefix },
      ),
    );
    for (const id of ran) await settled(queue, id);
    await worker.close();
    ids.push(...ran);

    const blob = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]); // not UTF-8: a string read would mangle it
    await connection.hset(`${prefix}:q:${ids[0]}`, 'celeriac:input:x', blob);
    const read = async (id: string) => toJobHash(queue, id, await connection.hgetallBuffer(`${prefix}:q:${id}`));
    for (const id of ids) {
      const hash = await read(id);
      expect(fieldsOf(hash?.job), `job ${id}`).toEqual(fieldsOf(await Job.fromId(queue, id)));
    }
    expect((await read(ids[0]!))?.blobs).toEqual(new Map([['celeriac:input:x', blob]]));
    expect(await read('no-such-job')).toBeUndefined();
  });
});
