import { describe, expect, it } from 'vitest';
import { JobSource, createJobEnvelope } from '@celeriac/core';
import { describeBrokerConformance } from '@celeriac/broker/conformance';
import { useTestRedis } from '@celeriac/testing';

const redis = useTestRedis();

describeBrokerConformance('redis', () => redis.createBroker());

describe('the Redis broker', () => {
  it('finds a job in a queue another process created after this broker last looked up a job', async () => {
    const reader = redis.createBroker();
    const writer = redis.createBroker();
    const request = (queue: string) => ({ queue, task: 'add', envelope: createJobEnvelope({}, { source: JobSource.Sdk }) });
    const first = await writer.enqueue(request('first'));
    expect((await reader.getJob(first.id))?.queue).toBe('first');
    // The reader keeps the queues it read; a job in a queue new since is found by reading them again.
    const second = await writer.enqueue(request('second'));
    expect((await reader.getJob(second.id))?.queue).toBe('second');
    expect(await reader.getJob('no-such-job')).toBeUndefined();
  });
});
