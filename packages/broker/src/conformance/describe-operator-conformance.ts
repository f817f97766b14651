import { describe, expect, it } from 'vitest';
import { ErrorCode, JobSource, JobState, createJobEnvelope, isCeleriacError, serializeError } from '@celeriac/core';
import type { Broker } from '../broker.js';
import { conformanceRequest as request, consumeOptions } from './conformance-fixtures.js';

/**
 * The operator side of the {@link Broker} contract (bulk enqueue, listings, retries, queue administration, remote
 * control, consumer pause), as a vitest suite. `describeBrokerConformance` runs it; it is exported for brokers that
 * want to run it on its own.
 */
export function describeOperatorConformance(name: string, createBroker: () => Broker): void {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe(`Broker conformance (operator): ${name}`, () => {
    it('enqueues a bulk of jobs on several queues, in order, an existing id answering its job', async () => {
      const broker = createBroker();
      await broker.enqueue(request({ jobId: 'known', envelope: createJobEnvelope({ value: 'first' }, { source: JobSource.Sdk }) }));
      const created = await broker.enqueueBulk([
        request(),
        request({ queue: 'other', delayMs: 60_000 }),
        request({ jobId: 'known' }),
      ]);
      expect(created.map((job) => [job.queue, job.state])).toEqual([
        ['default', JobState.Queued],
        ['other', JobState.Scheduled],
        ['default', JobState.Queued],
      ]);
      expect(created[2]).toMatchObject({ id: 'known', input: { value: 'first' } });
      expect(await broker.getJob(created[1]!.id)).toMatchObject({ queue: 'other', state: JobState.Scheduled });
    });

    it('lists jobs newest first, page by page, filtered by state, queue and task', async () => {
      const broker = createBroker();
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) {
        ids.push((await broker.enqueue(request({ task: index % 2 ? 'odd' : 'even', queue: index < 4 ? 'default' : 'other' }))).id);
        await pause(3); // distinct creation times
      }
      const first = await broker.listJobs({ limit: 2 });
      expect(first.jobs.map((job) => job.id)).toEqual([ids[4], ids[3]]);
      const second = await broker.listJobs({ limit: 2, cursor: first.nextCursor! });
      const third = await broker.listJobs({ limit: 2, cursor: second.nextCursor! });
      expect([...second.jobs, ...third.jobs].map((job) => job.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(third.nextCursor).toBeUndefined();
      expect((await broker.listJobs({ limit: 10, tasks: ['odd'] })).jobs.map((job) => job.id)).toEqual([ids[3], ids[1]]);
      expect((await broker.listJobs({ limit: 10, queues: ['other'] })).jobs.map((job) => job.id)).toEqual([ids[4]]);
      expect((await broker.listJobs({ limit: 10, states: [JobState.Active] })).jobs).toEqual([]);
      const error = await broker.listJobs({ limit: 1, cursor: 'bogus' }).catch((caught: unknown) => caught);
      expect(isCeleriacError(error, ErrorCode.InvalidRequest)).toBe(true);
    });

    it('lists just the given jobs, on any queue and in any state, cancelled ones included', async () => {
      const broker = createBroker();
      const [queued, scheduled, cancelled, other] = await broker.enqueueBulk([
        request(),
        request({ queue: 'other', delayMs: 60_000 }),
        request(),
        request(),
      ]);
      expect(await broker.cancelJob(cancelled!.id)).toBe('cancelled');
      const ids = [queued!.id, scheduled!.id, cancelled!.id, 'missing'];
      const { jobs, nextCursor } = await broker.listJobs({ ids, limit: ids.length });
      expect(Object.fromEntries(jobs.map((job) => [job.id, [job.queue, job.state]]))).toEqual({
        [queued!.id]: ['default', JobState.Queued],
        [scheduled!.id]: ['other', JobState.Scheduled],
        [cancelled!.id]: ['default', JobState.Cancelled],
      });
      expect(nextCursor).toBeUndefined();
      expect(jobs.map((job) => job.id)).not.toContain(other!.id);
      // The other filters still apply.
      expect((await broker.listJobs({ ids, limit: 10, states: [JobState.Scheduled] })).jobs.map((job) => job.id)).toEqual([
        scheduled!.id,
      ]);
    });

    it('retries a failed job, and refuses jobs that are not failed or cancelled', async () => {
      const broker = createBroker();
      const consumer = await broker.consume(
        async () => {
          throw new Error('boom');
        },
        consumeOptions,
      );
      const failing = await broker.enqueue(request());
      expect(await broker.waitForJob(failing.id, 10_000)).toMatchObject({ state: JobState.Failed });
      await consumer.close(5_000);
      expect(await broker.retryJob(failing.id)).toEqual({ outcome: 'retried', previousState: JobState.Failed });
      const retried = await broker.getJob(failing.id);
      expect(retried).toMatchObject({ state: JobState.Queued, history: [{ attempt: 1, outcome: 'failed' }] });
      expect(await broker.retryJob(failing.id)).toEqual({ outcome: 'not-retryable', state: JobState.Queued });
      expect(await broker.retryJob('missing')).toEqual({ outcome: 'not-found' });
    });

    it('counts, pauses, resumes and drains queues', async () => {
      const broker = createBroker();
      await broker.enqueueBulk([request(), request(), request({ delayMs: 60_000 })]);
      expect(await broker.listQueues()).toEqual([
        { name: 'default', paused: false, counts: { queued: 2, delayed: 1, active: 0, succeeded: 0, failed: 0 } },
      ]);
      expect((await broker.setQueuePaused('default', true)).paused).toBe(true);
      expect((await broker.setQueuePaused('default', false)).paused).toBe(false);
      expect(await broker.drainQueue('default', { delayed: true })).toEqual({ removed: 3 });
      const unknown = await broker.drainQueue('nowhere', { delayed: true }).catch((caught: unknown) => caught);
      expect(isCeleriacError(unknown, ErrorCode.QueueNotFound)).toBe(true);
    });

    it('carries control commands to the addressed listeners and their replies back', async () => {
      const broker = createBroker();
      const heard: string[] = [];
      const listen = (id: string) =>
        broker.listenForControl(id, async (command) => {
          heard.push(`${id}:${command.command}`);
          if (id === 'b') throw new Error('cannot');
          return { ok: true, result: { id } };
        });
      const listeners = [await listen('a'), await listen('b'), await listen('c')];
      const report = await broker.sendControl({ command: 'ping' }, { workers: ['a', 'b', 'ghost'], timeoutMs: 5_000 });
      await Promise.all(listeners.map((listener) => listener.close()));
      expect(report.command).toBe('ping');
      expect(report.replies.map(({ worker, ok, result }) => ({ worker, ok, result }))).toEqual([
        { worker: 'a', ok: true, result: { id: 'a' } },
        { worker: 'b', ok: false, result: undefined },
      ]);
      expect(report.replies[1]!.error).toMatchObject({ code: serializeError(new Error('cannot')).code, message: 'cannot' });
      expect(report.missing).toEqual(['ghost']);
      expect(heard.sort()).toEqual(['a:ping', 'b:ping']);
    });

    it('pauses a consumer: jobs wait until it resumes', async () => {
      const broker = createBroker();
      const consumer = await broker.consume(async () => 'ran', consumeOptions);
      await consumer.pause();
      const job = await broker.enqueue(request());
      await pause(300);
      expect((await broker.getJob(job.id))?.state).toBe(JobState.Queued);
      await consumer.resume();
      expect(await broker.waitForJob(job.id, 10_000)).toMatchObject({ state: JobState.Succeeded, result: 'ran' });
      await consumer.close(5_000);
    });
  });
}
