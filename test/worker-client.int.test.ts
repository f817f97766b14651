import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ErrorCode, JobState, isCeleriacError } from '@celeriac/core';
import { createClient } from '@celeriac/client';
import { createWorker, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add, badOutput, refuses, sleeps } from './fixtures/test-tasks.js';
import { errorOf } from './fixtures/error-of.js';

const redis = useTestRedis();
const silent = pino({ level: 'silent' });

async function startWorker(options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({ tasks: [add, badOutput, refuses, sleeps], connection: redis.url, prefix: redis.prefix, logger: silent, concurrency: 2, ...options }),
  );
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

describe('client and worker over Redis', () => {
  it('runs a typed task and returns its result', async () => {
    await startWorker();
    const job = await client().enqueue(add, { x: 2, y: 3 });
    expect(await job.result({ timeoutMs: 10_000 })).toBe(5);
    expect(await job.state()).toBe(JobState.Succeeded);
    const record = await job.record();
    expect(record).toMatchObject({ task: 'add', queue: 'default', input: { x: 2, y: 3 }, result: 5, attempts: { made: 1, max: 1 } });
    expect(Date.parse(record.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(record.createdAt));
  });

  it('rejects invalid input in the SDK, naming the field', async () => {
    const error = await errorOf(client().enqueue(add, { x: 1, y: 'two' } as unknown as { x: number; y: number }));
    expect(isCeleriacError(error, ErrorCode.InvalidInput)).toBe(true);
    expect((error as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path)).toEqual(['input.y']);
  });

  it('fails a job whose input bypassed the SDK, non-retryably, with the zod issues', async () => {
    await startWorker();
    const job = await client().enqueueByName('add', { x: 1 });
    const error = await errorOf(job.result({ timeoutMs: 10_000 }));
    expect(isCeleriacError(error, ErrorCode.JobFailed)).toBe(true);
    const record = await job.record();
    expect(record.state).toBe(JobState.Failed);
    expect(record.error).toMatchObject({ code: ErrorCode.InvalidInput, retryable: false, details: { issues: [{ path: 'input.y' }] } });
  });

  it('fails a job whose handler returns an output its schema rejects', async () => {
    await startWorker();
    const job = await client().enqueue(badOutput, {});
    await errorOf(job.result({ timeoutMs: 10_000 }));
    expect((await job.record()).error).toMatchObject({ code: ErrorCode.InvalidOutput, details: { issues: [{ path: 'output.total' }] } });
  });

  it('rethrows a TaskFailure as the cause of CELERIAC_JOB_FAILED', async () => {
    await startWorker();
    const job = await client().enqueue(refuses, { reason: 'no such account' });
    const error = await errorOf(job.result({ timeoutMs: 10_000 }));
    expect(isCeleriacError(error, ErrorCode.JobFailed)).toBe(true);
    const cause = (error as Error).cause;
    expect(isCeleriacError(cause, ErrorCode.TaskFailed)).toBe(true);
    expect(cause).toMatchObject({ message: 'no such account', retryable: false, details: { hint: 'none' } });
  });

  it('fails a job of a task the worker does not know', async () => {
    await startWorker();
    const job = await client().enqueueByName('nobody-knows-me', {});
    await errorOf(job.result({ timeoutMs: 10_000 }));
    expect((await job.record()).error?.code).toBe(ErrorCode.TaskNotFound);
  });

  it('answers CELERIAC_JOB_NOT_FOUND for an unknown id, never a pending state', async () => {
    const sdk = client();
    expect(isCeleriacError(await errorOf(sdk.getJob('does-not-exist')), ErrorCode.JobNotFound)).toBe(true);
    expect(isCeleriacError(await errorOf(sdk.job('does-not-exist').state()), ErrorCode.JobNotFound)).toBe(true);
  });

  it('cancels a delayed job so it never runs', async () => {
    await startWorker();
    const job = await client().enqueue(add, { x: 1, y: 1 }, { delay: '300ms' });
    expect(await job.state()).toBe(JobState.Scheduled);
    expect(await job.cancel()).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await job.state()).toBe(JobState.Cancelled);
    expect(isCeleriacError(await errorOf(job.result()), ErrorCode.JobCancelled)).toBe(true);
  });

  it('runs a delayed job after its delay, and honours a caller jobId once', async () => {
    await startWorker();
    const sdk = client();
    const first = await sdk.enqueue(add, { x: 1, y: 2 }, { delay: 200, jobId: 'order-1' });
    const again = await sdk.enqueue(add, { x: 100, y: 200 }, { jobId: 'order-1' });
    expect(again.id).toBe(first.id);
    expect(await first.result({ timeoutMs: 10_000 })).toBe(3);
  });

  it('validates enqueue options', async () => {
    const error = await errorOf(client().enqueue(add, { x: 1, y: 1 }, { jobId: '42' }));
    expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
    expect((error as Error).message).toContain('enqueue.jobId');
  });

  it('runs up to `concurrency` jobs at once', async () => {
    await startWorker({ concurrency: 3 });
    const sdk = client();
    const jobs = await Promise.all(Array.from({ length: 6 }, () => sdk.enqueue(sleeps, { ms: 300 })));
    await Promise.all(jobs.map((job) => job.result({ timeoutMs: 10_000 })));
    const spans = await Promise.all(jobs.map(async (job) => job.record()));
    const maxOverlap = Math.max(
      ...spans.map((a) => spans.filter((b) => b.startedAt! <= a.startedAt! && b.finishedAt! > a.startedAt!).length),
    );
    expect(maxOverlap).toBe(3);
  });

  it('publishes its catalogue and heartbeat, and removes the heartbeat on close', async () => {
    const worker = await startWorker();
    const broker = redis.createBroker();
    const catalogue = await broker.listCatalogue();
    expect(catalogue.map((entry) => entry.name)).toEqual(['add', 'bad-output', 'refuses', 'sleeps']);
    expect(catalogue[0]?.inputSchema).toMatchObject({ type: 'object', required: ['x', 'y'] });
    const [info] = await broker.listWorkers();
    expect(info).toMatchObject({ id: worker.id, queues: ['default'], concurrency: 2, pid: process.pid });
    await worker.close();
    expect(await broker.listWorkers()).toEqual([]);
  });

  it("shows the handler's log lines on the job", async () => {
    await startWorker();
    const job = await client().enqueue(sleeps, { ms: 5 });
    await job.result({ timeoutMs: 10_000 });
    expect((await job.record()).logs).toEqual(['sleeping 5 ms']);
  });

  it('finishes jobs in flight before closing', async () => {
    const worker = await startWorker();
    const job = await client().enqueue(sleeps, { ms: 400 });
    while ((await job.state()) !== JobState.Active) await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.close();
    expect(await job.state()).toBe(JobState.Succeeded);
  });

  it('refuses bad worker options with the path in the message', () => {
    expect(() => createWorker({ tasks: [add], concurrency: 0 })).toThrow(/worker\.concurrency/);
    expect(() => createWorker({ tasks: [] })).toThrow(/worker\.tasks/);
  });
});
