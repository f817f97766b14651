import { describe, expect, it, vi } from 'vitest';
import {
  CeleriacError,
  ErrorCode,
  JobSource,
  JobState,
  createJobEnvelope,
  isCeleriacError,
  type CatalogueEntry,
  type WorkerInfo,
} from '@celeriac/core';
import type { Broker, JobEvent, ReceivedJob } from '../broker.js';
import { conformanceRequest as request, consumeOptions } from './conformance-fixtures.js';
import { describeConsumerLivenessConformance } from './describe-consumer-liveness-conformance.js';
import { describeEventConformance } from './describe-event-conformance.js';
import { describeOperatorConformance } from './describe-operator-conformance.js';

export { describeOperatorConformance };

/**
 * The behaviour every {@link Broker} must have, as a vitest suite. Call it in a test file of your implementation
 * with a factory that returns a fresh, isolated broker (the factory's caller closes it after each test).
 *
 * @example
 * ```ts
 * describeBrokerConformance('redis', () => redis.createBroker());
 * ```
 */
export function describeBrokerConformance(name: string, createBroker: () => Broker): void {
  describe(`Broker conformance: ${name}`, () => {
    it('enqueues a job that reads back as queued, and an unknown id as undefined', async () => {
      const broker = createBroker();
      const created = await broker.enqueue(request());
      expect(created).toMatchObject({ task: 'echo', queue: 'default', state: JobState.Queued, input: { value: 1 } });
      expect(await broker.getJob(created.id)).toEqual(created);
      expect(await broker.getJob('no-such-job')).toBeUndefined();
    });

    it('returns the existing job when the same jobId is enqueued twice', async () => {
      const broker = createBroker();
      const first = await broker.enqueue(request({ jobId: 'same' }));
      const second = await broker.enqueue(request({ jobId: 'same', envelope: createJobEnvelope(2, { source: JobSource.Sdk }) }));
      expect(second.id).toBe(first.id);
      expect(second.input).toEqual({ value: 1 });
    });

    it('keeps a delayed job scheduled with its run time', async () => {
      const broker = createBroker();
      const before = Date.now();
      const job = await broker.enqueue(request({ delayMs: 60_000 }));
      expect(job.state).toBe(JobState.Scheduled);
      expect(Date.parse(job.runAt ?? '')).toBeGreaterThanOrEqual(before + 60_000);
    });

    it('delivers jobs to a consumer and stores the result', async () => {
      const broker = createBroker();
      const seen: ReceivedJob[] = [];
      const consumer = await broker.consume(
        async (job) => {
          seen.push(job);
          await job.log('ran');
          return { doubled: 2 };
        },
        consumeOptions,
      );
      const job = await broker.enqueue(request());
      const done = await broker.waitForJob(job.id, 10_000);
      await consumer.close(5_000);
      expect(done).toEqual({ id: job.id, task: 'echo', state: JobState.Succeeded, result: { doubled: 2 } });
      expect((await broker.getJob(job.id))?.attempts.made).toBe(1);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ id: job.id, task: 'echo', queue: 'default', attemptsMade: 0 });
      expect(seen[0]?.data).toEqual({ v: 1, input: { value: 1 }, meta: { source: 'sdk' } });
    });

    it('keeps the code and details of a non-retryable failure', async () => {
      const broker = createBroker();
      const consumer = await broker.consume(
        async () => {
          throw new CeleriacError(ErrorCode.InvalidInput, 'bad input', { details: { field: 'x' } });
        },
        consumeOptions,
      );
      const job = await broker.enqueue(request());
      const done = await broker.waitForJob(job.id, 10_000);
      await consumer.close(5_000);
      expect(done?.state).toBe(JobState.Failed);
      expect(done?.error).toEqual({
        code: ErrorCode.InvalidInput,
        message: 'bad input',
        retryable: false,
        details: { field: 'x' },
      });
    });

    it('runs jobs without priority first, then lower priority numbers first', async () => {
      const broker = createBroker();
      const low = await broker.enqueue(request({ priority: 5 }));
      const high = await broker.enqueue(request({ priority: 1 }));
      const plain = await broker.enqueue(request());
      const order: string[] = [];
      const consumer = await broker.consume(async (job) => order.push(job.id), consumeOptions);
      await broker.waitForJob(low.id, 10_000);
      await consumer.close(5_000);
      expect(order).toEqual([plain.id, high.id, low.id]);
    });

    it('cancels a job that has not started, so it never runs', async () => {
      const broker = createBroker();
      const job = await broker.enqueue(request({ delayMs: 200 }));
      expect(await broker.cancelJob(job.id)).toBe('cancelled');
      let ran = false;
      const consumer = await broker.consume(async () => (ran = true), consumeOptions);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await consumer.close(5_000);
      expect(ran).toBe(false);
      expect(await broker.getJob(job.id)).toMatchObject({ id: job.id, state: JobState.Cancelled });
      expect(await broker.cancelJob(job.id)).toBe('cancelled');
      expect(await broker.cancelJob('no-such-job')).toBe('not-found');
    });

    it('reports a finished job as not cancellable', async () => {
      const broker = createBroker();
      const consumer = await broker.consume(async () => 1, consumeOptions);
      const job = await broker.enqueue(request());
      await broker.waitForJob(job.id, 10_000);
      await consumer.close(5_000);
      expect(await broker.cancelJob(job.id)).toBe('already-finished');
    });

    it('tells a watcher about a job that finishes right after the watch starts', async () => {
      const broker = createBroker();
      let release = (): void => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = (): void => {};
      const running = new Promise<void>((resolve) => (started = resolve));
      const consumer = await broker.consume(
        async () => {
          started();
          await gate;
          return 'done';
        },
        consumeOptions,
      );
      const job = await broker.enqueue(request());
      await running;
      // The broker's first watch of the queue: an event that follows its return at once must still reach it.
      const events: JobEvent[] = [];
      const stop = await broker.watchJob(job.id, (event) => events.push(event));
      release();
      await vi.waitFor(() => expect(events.map((event) => event.type)).toContain('finished'), { timeout: 5_000 });
      stop();
      await consumer.close(5_000);
    });

    it('times out waiting for a job nobody runs, and answers undefined for an unknown one', async () => {
      const broker = createBroker();
      const job = await broker.enqueue(request({ queue: 'nobody-consumes' }));
      const error = await broker.waitForJob(job.id, 100).catch((e: unknown) => e);
      expect(isCeleriacError(error, ErrorCode.ResultTimeout)).toBe(true);
      expect(error).toMatchObject({ details: { state: JobState.Queued, timeoutMs: 100 } });
      expect(await broker.waitForJob('no-such-job', 100)).toBeUndefined();
    });

    it('publishes and lists the task catalogue, sorted by name', async () => {
      const broker = createBroker();
      const entry = (task: string): CatalogueEntry => ({
        name: task,
        queue: 'default',
        resources: {},
        retry: { attempts: 1, backoff: 'exponential', delayMs: 1_000, maxDelayMs: 600_000, jitter: 0.2 },
        limits: {},
        inputSchema: { type: 'object' },
        outputSchema: { type: 'number' },
        publishedAtMs: 1,
      });
      await broker.publishCatalogue([entry('b'), entry('a')]);
      await broker.publishCatalogue([{ ...entry('b'), queue: 'other' }]);
      const listed = await broker.listCatalogue();
      expect(listed.map((e) => [e.name, e.queue])).toEqual([
        ['a', 'default'],
        ['b', 'other'],
      ]);
    });

    it('lists live workers until their heartbeat expires or they leave', async () => {
      const broker = createBroker();
      const worker = (id: string): WorkerInfo => ({
        id,
        hostname: 'host',
        pid: 1,
        queues: ['default'],
        tasks: ['echo'],
        concurrency: 1,
        startedAtMs: 1,
        heartbeatAtMs: 1,
        capabilities: { cpuSlots: 1 },
      });
      await broker.heartbeat(worker('stays'), 60_000);
      await broker.heartbeat(worker('expires'), 100);
      await broker.heartbeat(worker('leaves'), 60_000);
      await broker.removeWorker('leaves');
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await broker.listWorkers()).map((w) => w.id)).toEqual(['stays']);
    });

    it('keeps shared limits: a concurrency slot is refused while held and granted once released', async () => {
      const broker = createBroker();
      const slot = { key: 'tenant-a', limit: 1, leaseMs: 60_000 };
      expect(await broker.acquireLimits({ jobId: 'one', concurrency: slot })).toEqual({ acquired: true });
      expect(await broker.acquireLimits({ jobId: 'two', concurrency: slot })).toMatchObject({ acquired: false, reason: 'concurrency' });
      expect(await broker.renewLimit('one', slot)).toBe(true);
      await broker.releaseLimit('one', slot.key);
      expect(await broker.acquireLimits({ jobId: 'two', concurrency: slot })).toEqual({ acquired: true });
    });

    it('defers a job without spending an attempt', async () => {
      const broker = createBroker();
      const seen: { attempt: number; attemptsMade: number }[] = [];
      const consumer = await broker.consume(
        async (job) => {
          seen.push({ attempt: job.attempt, attemptsMade: job.attemptsMade });
          if (seen.length === 1) await job.defer(100);
          return 'done';
        },
        consumeOptions,
      );
      const job = await broker.enqueue(request());
      const done = await broker.waitForJob(job.id, 10_000);
      await consumer.close(5_000);
      expect(done).toMatchObject({ state: JobState.Succeeded, result: 'done' });
      expect(seen.map((s) => s.attemptsMade)).toEqual([0, 0]);
    });

    it('answers a ping', async () => {
      await expect(createBroker().ping(1_000)).resolves.toBeUndefined();
    });

    describeEventConformance(createBroker);
    describeConsumerLivenessConformance(createBroker);
  });
  describeOperatorConformance(name, createBroker);
}
