import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ErrorCode, JobState, isCeleriacError, type TaskDefinition } from '@celeriac/core';
import { createClient, type JobHandle } from '@celeriac/client';
import { createWorker, loadTaskModule, type WorkerOptions } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';
import { add } from './fixtures/test-tasks.js';
import { flaky, patient, refusesForGood, reportsProgress, stubborn, throwsPlain } from './fixtures/retry-tasks.js';
import type { JobEvent } from '@celeriac/client';

const redis = useTestRedis();

async function startWorker(tasks: readonly TaskDefinition[], options: Partial<WorkerOptions> = {}) {
  const worker = redis.track(
    createWorker({ tasks, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }), concurrency: 4, ...options }),
  );
  await worker.start();
  return worker;
}

const client = () => redis.track(createClient({ connection: redis.url, prefix: redis.prefix }));

/** Waits for a job to end, whatever its outcome, and returns its record. */
async function settle(job: JobHandle<unknown>) {
  await job.result({ timeoutMs: 15_000 }).catch(() => undefined);
  return job.record();
}

/** Milliseconds from creation to finish: the sum of the backoff waits plus the attempts' own (short) run time. */
const elapsedMs = (record: { createdAt: string; finishedAt?: string | undefined }) =>
  Date.parse(record.finishedAt ?? '') - Date.parse(record.createdAt);

// Backoff timing tolerance: a wait may run late by BullMQ's delayed-job polling and this machine's scheduling, so
// each assertion allows the exact sum of the waits as a floor and that sum + 1 s as a ceiling.
const lateMs = 1_000;

describe('retries', () => {
  it('retries with a fixed backoff and succeeds on the third attempt', async () => {
    const task = flaky({ attempts: 3, backoff: 'fixed', delay: 200, jitter: 0 });
    await startWorker([task]);
    const job = await client().enqueue(task, { succeedOn: 3 });
    expect(await job.result({ timeoutMs: 15_000 })).toEqual({ attempt: 3 });
    const record = await job.record();
    expect(record.attempts).toEqual({ made: 3, max: 3 });
    expect(elapsedMs(record)).toBeGreaterThanOrEqual(400);
    expect(elapsedMs(record)).toBeLessThan(400 + lateMs);
  });

  it('doubles an exponential backoff: 150, 300, 600 ms', async () => {
    const task = flaky({ attempts: 4, backoff: 'exponential', delay: 150, jitter: 0 });
    await startWorker([task]);
    const record = await settle(await client().enqueue(task, { succeedOn: 4 }));
    expect(record.state).toBe(JobState.Succeeded);
    expect(elapsedMs(record)).toBeGreaterThanOrEqual(1_050);
    expect(elapsedMs(record)).toBeLessThan(1_050 + lateMs);
  });

  it('waits what a TaskFailure asks for instead of the policy', async () => {
    const task = flaky({ attempts: 2, backoff: 'fixed', delay: 10, jitter: 0 });
    await startWorker([task]);
    const record = await settle(await client().enqueue(task, { succeedOn: 2, requestedDelayMs: 600 }));
    expect(record.state).toBe(JobState.Succeeded);
    expect(elapsedMs(record)).toBeGreaterThanOrEqual(600);
    expect(elapsedMs(record)).toBeLessThan(600 + lateMs);
  });

  it('shows a job waiting for its backoff as retrying', async () => {
    const task = flaky({ attempts: 2, backoff: 'fixed', delay: 1_500, jitter: 0 });
    await startWorker([task]);
    const job = await client().enqueue(task, { succeedOn: 2 });
    let state = await job.state();
    for (let i = 0; i < 100 && state !== JobState.Retrying; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      state = await job.state();
    }
    expect(state).toBe(JobState.Retrying);
    expect((await job.record()).error).toMatchObject({ code: ErrorCode.TaskFailed, message: 'attempt 1 failed' });
    expect(await job.result({ timeoutMs: 15_000 })).toEqual({ attempt: 2 });
  });

  it('fails at once on a non-retryable failure, whatever the attempts', async () => {
    await startWorker([refusesForGood]);
    const record = await settle(await client().enqueue(refusesForGood, {}));
    expect(record).toMatchObject({ state: JobState.Failed, attempts: { made: 1, max: 5 } });
    expect(record.error).toMatchObject({ code: ErrorCode.TaskFailed, retryable: false, message: 'no such account' });
  });

  it('retries only the errors listed in retryOn', async () => {
    await startWorker([throwsPlain]);
    const sdk = client();
    const unlisted = await settle(await sdk.enqueue(throwsPlain, { name: 'TypeError' }));
    expect(unlisted).toMatchObject({ state: JobState.Failed, attempts: { made: 1, max: 3 } });
    expect(unlisted.error).toMatchObject({ code: ErrorCode.HandlerError, retryable: false });
    const listed = await settle(await sdk.enqueue(throwsPlain, { name: 'Error', code: 'ECONNRESET' }));
    expect(listed).toMatchObject({ state: JobState.Failed, attempts: { made: 3, max: 3 } });
  });

  it('lets a call override the task policy', async () => {
    const task = flaky({ attempts: 1 });
    await startWorker([task]);
    const job = await client().enqueue(task, { succeedOn: 2 }, { retry: { attempts: 2, delay: 50, jitter: 0 } });
    expect(await job.result({ timeoutMs: 15_000 })).toEqual({ attempt: 2 });
  });

  it('names a bad retry override', async () => {
    const error = await client()
      .enqueue(flaky({}), { succeedOn: 1 }, { retry: { attempts: 0 } })
      .catch((e: unknown) => e);
    expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
    expect((error as Error).message).toContain('enqueue.retry.attempts');
  });
});

describe('expiry, ETA and deduplication', () => {
  it('expires a job that is still waiting at its expiry, and never runs it', async () => {
    const sdk = client();
    const job = await sdk.enqueue(add, { x: 1, y: 2 }, { delay: 600, expires: 200 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await job.state()).toBe(JobState.Expired);
    await startWorker([add]);
    const record = await settle(job);
    expect(record.state).toBe(JobState.Expired);
    expect(record.error?.code).toBe(ErrorCode.JobExpired);
    expect(record.attempts.made).toBe(1);
    expect(record.result).toBeUndefined();
    await expect(job.result()).rejects.toMatchObject({ code: ErrorCode.JobExpired, details: { state: JobState.Expired } });
  });

  it('runs a job at its ETA', async () => {
    await startWorker([add]);
    const eta = new Date(Date.now() + 400);
    const job = await client().enqueue(add, { x: 2, y: 2 }, { eta });
    expect(await job.state()).toBe(JobState.Scheduled);
    expect(await job.result({ timeoutMs: 10_000 })).toBe(4);
    expect(Date.parse((await job.record()).startedAt ?? '')).toBeGreaterThanOrEqual(eta.getTime());
  });

  it('fires a delayed job once across a worker restart', async () => {
    const first = await startWorker([add]);
    const job = await client().enqueue(add, { x: 5, y: 5 }, { delay: 500 });
    await first.close();
    await startWorker([add]);
    expect(await job.result({ timeoutMs: 10_000 })).toBe(10);
    expect((await job.record()).attempts.made).toBe(1);
  });

  it('returns the same job for the same dedupe key within its TTL, and runs it once', async () => {
    const sdk = client();
    const first = await sdk.enqueue(add, { x: 1, y: 1 }, { dedupe: { key: 'invoice-7', ttl: '10s' }, delay: 300 });
    const second = await sdk.enqueue(add, { x: 9, y: 9 }, { dedupe: { key: 'invoice-7', ttl: '10s' } });
    expect(second.id).toBe(first.id);
    await startWorker([add]);
    expect(await first.result({ timeoutMs: 10_000 })).toBe(2);
  });
});

describe('time limits and progress (inline tasks)', () => {
  it('aborts ctx.signal at the soft limit, so the handler can finish cleanly', async () => {
    await startWorker([patient]);
    const job = await client().enqueue(patient, { ms: 5_000 }, { limits: { soft: 150 } });
    expect(await job.result({ timeoutMs: 10_000 })).toEqual({ aborted: ErrorCode.TimeLimitExceeded });
    expect((await job.record()).progress).toEqual({ done: true });
  });

  it('streams the job starting, its progress and its finish to watchers', async () => {
    const job = await client().enqueue(reportsProgress, {});
    const events: JobEvent[] = [];
    let markFinished = (): void => {};
    const finished = new Promise<void>((resolve) => (markFinished = resolve));
    // Events are live: subscribe before the worker starts, or the start may be missed.
    await job.watch((event) => {
      events.push(event);
      if (event.type === 'finished') markFinished();
    });
    await startWorker([reportsProgress]);
    await finished;
    expect(events.map((event) => event.type)).toEqual(['active', 'progress', 'progress', 'progress', 'finished']);
    expect(events.filter((event) => event.type === 'progress').map((event) => event.progress)).toEqual([33, 66, 100]);
    expect(events.at(-1)).toEqual({ type: 'finished', id: job.id, outcome: { id: job.id, task: 'reports-progress', state: JobState.Succeeded, result: 'done' } });
    expect((await job.record()).progress).toBe(100);
  });

  it('fails the attempt at the hard limit', async () => {
    await startWorker([stubborn]);
    const record = await settle(await client().enqueue(stubborn, { ms: 3_000 }, { limits: { hard: 200 } }));
    expect(record.state).toBe(JobState.Failed);
    expect(record.error).toMatchObject({ code: ErrorCode.TimeLimitExceeded, details: { limit: 'hard', limitMs: 200 } });
  });
});

/** Polls until the job is active, so a test can act on a running job. */
async function untilActive(job: JobHandle<unknown>): Promise<void> {
  for (let i = 0; i < 250 && (await job.state()) !== JobState.Active; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await job.state()).toBe(JobState.Active);
}

describe('cancelling and handing back running jobs', () => {
  it('cancels a running job on its worker: ctx.signal aborts and the job ends cancelled', async () => {
    await startWorker([patient]);
    const job = await client().enqueue(patient, { ms: 10_000 });
    await untilActive(job);
    expect(await job.cancel()).toBe('cancelling');
    const record = await settle(job);
    expect(record.state).toBe(JobState.Cancelled);
    expect(record.error).toMatchObject({ code: ErrorCode.JobCancelled, retryable: false });
    expect(isCeleriacError(await job.result().catch((e: unknown) => e), ErrorCode.JobCancelled)).toBe(true);
  });

  it('lets go of a handler that ignores the cancellation after the grace period', async () => {
    await startWorker([stubborn], { abortGrace: 200 });
    const job = await client().enqueue(stubborn, { ms: 8_000 });
    await untilActive(job);
    expect(await job.cancel()).toBe('cancelling');
    const record = await settle(job);
    expect(record.state).toBe(JobState.Cancelled);
    expect(elapsedMs(record)).toBeLessThan(8_000);
  });

  it('hands unfinished jobs back at the shutdown deadline, and another worker finishes them once', async () => {
    const first = await startWorker([stubborn], { shutdownTimeout: 200, abortGrace: 60_000 });
    const job = await client().enqueue(stubborn, { ms: 1_500 });
    await untilActive(job);
    await first.close();
    expect(await job.state()).toBe(JobState.Queued);
    await startWorker([stubborn]);
    expect(await job.result({ timeoutMs: 15_000 })).toEqual({ sleptMs: 1_500 });
    // The handed-back attempt is not a failure: only the completing attempt is counted.
    expect((await job.record()).attempts.made).toBe(1);
  });
});

describe('sandbox threads', () => {
  const tasksModule = new URL('./fixtures/process-tasks.js', import.meta.url);

  it('starts its threads before taking jobs, and runs a sandboxed task in them', async () => {
    const tasks = await loadTaskModule(tasksModule);
    await startWorker(tasks, { tasksModule, sandboxThreads: 2 });
    const job = await client().enqueueByName('spin', { ms: 5 });
    expect(await job.result({ timeoutMs: 15_000 })).toEqual({ spunMs: 5, attempt: 1 });
  });

  it('refuses to start when the tasks module does not export a sandboxed task, naming it', async () => {
    const worker = redis.track(
      createWorker({ tasks: [add], tasksModule, connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
    );
    const error = await worker.start().then(
      () => expect.unreachable('start() should have failed'),
      (e: unknown) => e,
    );
    expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
    expect((error as Error).message).toContain('does not export task(s) add');
  });
});
