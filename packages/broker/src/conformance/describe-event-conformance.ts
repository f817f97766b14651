import { expect, it } from 'vitest';
import { CeleriacError, ErrorCode, JobState } from '@celeriac/core';
import type { Broker } from '../broker.js';
import type { StreamedJobEvent } from '../job-event-stream.js';
import { conformanceRequest as request, consumeOptions, until } from './conformance-fixtures.js';

/**
 * The event stream and job statistics part of the conformance suite: called inside `describeBrokerConformance`'s
 * `describe`, with its factory.
 */
export function describeEventConformance(createBroker: () => Broker): void {
  it('streams a job\'s states, progress and log lines in order, and resumes after a cursor', async () => {
    const broker = createBroker();
    const events: StreamedJobEvent[] = [];
    const subscription = await broker.subscribeEvents({ queues: ['default'] }, (event) => events.push(event));
    const consumer = await broker.consume(async (job) => {
      await job.progress(50);
      await job.log('half way');
      return 'done';
    }, consumeOptions);
    const job = await broker.enqueue(request());
    await until(() => events.some((event) => event.type === 'state' && event.state === JobState.Succeeded));
    await consumer.close(5_000);
    await subscription.close();
    const mine = events.filter((event) => event.id === job.id);
    expect(mine.map((event) => (event.type === 'state' ? event.state : event.type))).toEqual([
      JobState.Queued,
      JobState.Active,
      'progress',
      'log',
      JobState.Succeeded,
    ]);
    expect(mine.every((event) => event.task === 'echo' && event.queue === 'default')).toBe(true);
    expect(mine.find((event) => event.type === 'log')).toMatchObject({ line: 'half way' });

    const replayed: StreamedJobEvent[] = [];
    const resumed = await broker.subscribeEvents({ queues: ['default'], jobId: job.id, after: mine[1]!.cursor }, (event) =>
      replayed.push(event),
    );
    await until(() => replayed.length >= 3);
    await resumed.close();
    expect(replayed.map((event) => event.cursor)).toEqual(mine.slice(2).map((event) => event.cursor));
    await expect(broker.subscribeEvents({ after: 'not-a-cursor' }, () => {})).rejects.toSatisfy(
      (error) => error instanceof CeleriacError && error.code === ErrorCode.InvalidRequest,
    );
  });

  it('counts each attempt\'s duration and each failure\'s code in the job statistics', async () => {
    const broker = createBroker();
    let calls = 0;
    const consumer = await broker.consume(async () => {
      if (++calls === 2) throw new CeleriacError(ErrorCode.InvalidInput, 'bad input');
      return 'ok';
    }, consumeOptions);
    const first = await broker.enqueue(request());
    await broker.waitForJob(first.id, 10_000);
    const second = await broker.enqueue(request());
    await broker.waitForJob(second.id, 10_000);
    await consumer.close(5_000);
    await until(async () => (await broker.readJobStats()).durations.length === 2);
    const stats = await broker.readJobStats();
    const succeeded = stats.durations.find((entry) => entry.outcome === 'succeeded');
    expect(succeeded).toMatchObject({ task: 'echo', count: 1 });
    expect(succeeded?.buckets.at(-1)).toEqual({ le: Infinity, count: 1 });
    expect(stats.durations.find((entry) => entry.outcome === 'failed')).toMatchObject({ task: 'echo', count: 1 });
    expect(stats.failures).toEqual([{ task: 'echo', code: ErrorCode.InvalidInput, final: true, count: 1 }]);
  });
}
